package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := func(rev, tm, mod string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: tm},
			{Key: "vcs.modified", Value: mod},
		}
	}
	tests := []struct {
		name       string
		bi         *debug.BuildInfo
		ok         bool
		wantShort  string
		wantString string
	}{
		{
			name:       "no build info",
			ok:         false,
			wantShort:  "(devel)",
			wantString: "sshelf (devel) (go1.0)",
		},
		{
			name:       "release",
			bi:         &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			ok:         true,
			wantShort:  "v1.2.0",
			wantString: "sshelf v1.2.0 (go1.26.8)",
		},
		{
			name: "checkout, clean",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("3f2a1b9c0d1e2f3a4b5c", "2026-01-02T15:04:05Z", "false")},
			ok:         true,
			wantShort:  "(devel)-3f2a1b9c0d1e",
			wantString: "sshelf (devel) (commit 3f2a1b9c0d1e, 2026-01-02T15:04:05Z; go1.26.8)",
		},
		{
			name: "checkout, modified, pseudo-version",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20260102150405-3f2a1b9c0d1e+dirty"},
				Settings: vcs("3f2a1b9c0d1e2f3a4b5c", "2026-01-02T15:04:05Z", "true")},
			ok:         true,
			wantShort:  "v0.0.0-20260102150405-3f2a1b9c0d1e+dirty",
			wantString: "sshelf v0.0.0-20260102150405-3f2a1b9c0d1e+dirty (commit 3f2a1b9c0d1e, 2026-01-02T15:04:05Z, modified; go1.26.8)",
		},
		{
			name:       "empty main version",
			bi:         &debug.BuildInfo{GoVersion: "go1.26.8"},
			ok:         true,
			wantShort:  "(devel)",
			wantString: "sshelf (devel) (go1.26.8)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := fromBuildInfo(tt.bi, tt.ok, "go1.0")
			if got := i.Short(); got != tt.wantShort {
				t.Errorf("Short() = %q, want %q", got, tt.wantShort)
			}
			if got := i.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
		})
	}
}

func TestGet(t *testing.T) {
	i := Get()
	if !strings.HasPrefix(i.Go, "go") || i.Version == "" {
		t.Errorf("Get() = %+v, want a version and a Go version", i)
	}
}
