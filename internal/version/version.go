// Package version tells which build of sshelf is running, from the build
// information the Go toolchain embeds in every binary.
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is what the build information says about this binary.
type Info struct {
	// Version is the main module's version: a release tag such as
	// "v1.2.0" when installed with `go install ...@v1.2.0`, a pseudo-version
	// when built from a checkout, or "(devel)" when nothing better is known.
	Version  string
	Revision string // VCS commit, when built from a checkout
	Time     string // VCS commit time, RFC 3339
	Modified bool   // the checkout had uncommitted changes
	Go       string // the Go toolchain, e.g. "go1.26.8"
}

// Get reads the running binary's build information.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	return fromBuildInfo(bi, ok, runtime.Version())
}

func fromBuildInfo(bi *debug.BuildInfo, ok bool, goVersion string) Info {
	info := Info{Version: "(devel)", Go: goVersion}
	if !ok || bi == nil {
		return info
	}
	if bi.GoVersion != "" {
		info.Go = bi.GoVersion
	}
	if v := bi.Main.Version; v != "" {
		info.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// Short is the version in one word, for a log attribute: the module
// version, or for a development build its commit ("(devel)-3f2a1b9c0d1e",
// "+dirty" when modified).
func (i Info) Short() string {
	v := i.Version
	if v == "(devel)" && i.Revision != "" {
		v += "-" + short(i.Revision)
	}
	if i.Modified && !strings.HasSuffix(v, "+dirty") {
		v += "+dirty"
	}
	return v
}

// String is the line `sshelf version` prints, e.g.
// "sshelf v1.2.0 (go1.26.8)" or
// "sshelf (devel) (commit 3f2a1b9c0d1e, 2026-01-02T15:04:05Z, modified; go1.26.8)".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("sshelf ")
	b.WriteString(i.Version)
	b.WriteString(" (")
	if i.Revision != "" {
		b.WriteString("commit ")
		b.WriteString(short(i.Revision))
		if i.Time != "" {
			b.WriteString(", ")
			b.WriteString(i.Time)
		}
		if i.Modified {
			b.WriteString(", modified")
		}
		b.WriteString("; ")
	}
	b.WriteString(i.Go)
	b.WriteString(")")
	return b.String()
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
