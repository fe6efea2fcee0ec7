// Package atomicfile replaces files so that a reader sees the old content or
// the new, never half a file: the report file, the metrics file for
// node_exporter's textfile collector. (ec2sim's state file has its own
// copy: ec2sim imports nothing of afisync.)
package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with what write writes: into a temporary file in the
// same directory (hidden: "." + the base name + a random suffix, so that
// globs such as *.prom never match it), given mode perm, synced to disk,
// then renamed over path. On any error the temporary file is removed, path
// is left as it was, and the error is returned unwrapped.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
