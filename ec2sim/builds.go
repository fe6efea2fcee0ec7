package ec2sim

import (
	"path"
	"strings"
)

// FailBuildPrefix starts the file name of an input key that makes a
// simulated build fail: a CreateFpgaImage whose InputStorageLocation.Key
// names a file "fail-CODE…" (such as dcp/fail-DCP_CORRUPT.tar) stays pending
// for the build time, then ends failed with the State.Message
// BuildFailureMessage(CODE). This is the simulator's own convention: S3 is
// not simulated, and nothing else about the input is checked.
const FailBuildPrefix = "fail-"

// BuildErrors are the error codes of CreateFpgaImage builds with AWS's
// descriptions of them (aws-fpga hdk/docs/create_fpga_image_error_codes.md).
var BuildErrors = map[string]string{
	"INACCESSIBLE_INPUT":       "Error accessing resource in S3. Check permissions, naming, and ensure the bucket is within the same region as the API endpoint.",
	"INPUT_SIZE_ILLEGAL":       "Input file size is not valid",
	"DCP_INTEGRITY_UNVERIFIED": "The DCP integrity SHA-256 hash does not match the provided DCP",
	"MANIFEST_NOT_FOUND":       "No manifest file was found. See AWS FPGA HDK documentation for valid input format. We recommend using the scripts provided with AWS FPGA HDK",
	"MANIFEST_PARSE_FAILED":    "Parsing the manifest file failed. We recommend using the scripts provided with AWS FPGA HDK",
	"SHELL_VERSION_INVALID":    "The Shell Version provided is invalid",
	"SHELL_VERSION_DEPRECATED": "The Shell Version provided is deprecated",
	"PCIID_SYNTAX_INVALID":     "PCI ID is not provided, wrongly formatted, or value is out of range valid range 1-65535 or 0x0001-0xFFFF",
	"PCIID_FORBIDDEN":          "PCI ID value used is reserved. See AWS FPGA HDK documentation for reserved PCI",
	"CLK_ILLEGAL":              "Provided clocks configuration is illegal. See AWS FPGA HDK documentation for supported clocks configuration",
	"CORRUPT_ARCHIVE":          "Failed to parse the input tarball archive",
	"DCP_NOT_FOUND":            "No DCP file was found with the supplied filename. See AWS FPGA HDK documentation for valid input format. We recommend using the scripts provided with AWS FPGA HDK",
	"DCP_CORRUPT":              "Could not parse the input DCP. The DCP files seems to be corrupt",
	"DCP_NOT_ENCRYPTED":        "The DCP was not encrypted",
}

// BuildFailureMessage is the State.Message of a simulated build that failed
// with code: "CODE: " and AWS's description of the code, or, for a code AWS
// does not document, "CODE: simulated build failure". (How AWS words the
// State.Message of a failed build is not documented; the simulator joins
// the code and its description.)
func BuildFailureMessage(code string) string {
	text, ok := BuildErrors[code]
	if !ok {
		text = "simulated build failure"
	}
	return code + ": " + text
}

// buildFailure returns the code an input key asks the build to fail with
// (FailBuildPrefix), or "".
func buildFailure(key string) string {
	name, ok := strings.CutPrefix(path.Base(key), FailBuildPrefix)
	if !ok {
		return ""
	}
	end := strings.IndexFunc(name, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') })
	if end < 0 {
		end = len(name)
	}
	return name[:end]
}
