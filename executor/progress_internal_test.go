package executor

import (
	"testing"

	"github.com/afisync/afisync/report"
)

// TestProgressCountsEveryStatus checks that the progress counts of every
// status follow the report's status table.
func TestProgressCountsEveryStatus(t *testing.T) {
	for _, s := range report.Statuses {
		var got RegionProgress
		got.add(s, false)
		want := RegionProgress{}
		switch in := s.Info(); {
		case in.Available:
			want.Available = 1
		case in.Failure:
			want.Failed = 1
		default:
			want.Other = 1
		}
		if got != want {
			t.Errorf("%s: counted as %+v, want %+v", s, got, want)
		}
		var pending RegionProgress
		pending.add(s, true)
		if pending != (RegionProgress{Pending: 1}) {
			t.Errorf("%s with a copy pending: counted as %+v", s, pending)
		}
	}
}
