package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Where a run keeps its files (issue 14). Users store files on disks, so
// by default both servers' files (sshelf's --data, sshd's target
// directory) are on the machine's disk, in the same directory, and each
// fsync costs what it costs there; --tmpfs puts them on /dev/shm, where
// flushing costs nothing. The client's own files (the source and the
// downloads) stay on tmpfs when it has room, so that they do not compete
// with the servers for the disk.

// benchDirEnv names a directory on the disk to measure (default /var/tmp,
// which outlives reboots and so, unlike /tmp on some systems, is a disk).
const benchDirEnv = "SSHELF_BENCH_DIR"

// place is one directory a run uses, and what it lives on.
type place struct {
	dir   string
	mount mount
}

func (p place) String() string {
	return fmt.Sprintf("%s (%s, mounted at %s)", p.dir, p.mount, p.mount.point)
}

// serverBase picks the parent of the run's directory: the disk, or tmpfs.
func serverBase(tmpfs bool) (string, error) {
	if tmpfs {
		m, err := mountOf("/dev/shm")
		if err != nil || !m.inMemory() {
			return "", errors.New("--tmpfs: /dev/shm is not a tmpfs on this machine")
		}
		return "/dev/shm", nil
	}
	base := os.Getenv(benchDirEnv)
	if base == "" {
		base = "/var/tmp"
	}
	m, err := mountOf(base)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", benchDirEnv, base, err)
	}
	if m.inMemory() {
		return "", fmt.Errorf("%s is on %s, in memory: set %s to a directory on a disk, or pass --tmpfs to measure in memory",
			base, m.fstype, benchDirEnv)
	}
	return base, nil
}

// clientBase is where the source file and downloads go: tmpfs when it can
// hold both without taking much of the memory the page cache needs,
// otherwise next to the servers' files.
func clientBase(serverDir string, size int64) string {
	m, err := mountOf("/dev/shm")
	if err != nil || !m.inMemory() {
		return serverDir
	}
	need := 2*size + 64<<20
	if free, err := freeBytes("/dev/shm"); err != nil || free < need || need > memAvailable()/4 {
		return serverDir
	}
	return "/dev/shm"
}

// checkSpace refuses a run whose transfers would fill a file system:
// sshelf keeps the old copy of a file until the new one commits (2x),
// sshd one copy, the client the source and one download.
func checkSpace(server, client place, size int64) error {
	const spare = 1 << 30 // catalogs, logs, the spool's slack
	needs := []struct {
		at   place
		need int64
	}{{server, 3*size + spare}}
	if client.mount.point == server.mount.point {
		needs[0].need += 2 * size
	} else {
		needs = append(needs, struct {
			at   place
			need int64
		}{client, 2 * size})
	}
	for _, n := range needs {
		free, err := freeBytes(n.at.dir)
		if err != nil {
			return fmt.Errorf("free space of %s: %w", n.at.dir, err)
		}
		if free < n.need {
			hint := "Set " + benchDirEnv + " to a directory with room"
			if n.at.mount.inMemory() {
				hint = "Measure on the disk (without --tmpfs)"
			}
			return fmt.Errorf("not enough free space for %s transfers: %v has %s free, the run needs %s there "+
				"(sshelf keeps the old copy until the new one commits: 2x the size; sshd 1x; "+
				"the client's source and download 2x where they share the file system; 1 GiB spare). "+
				"%s, or pass a smaller --size", human(size), n.at, gib(free), gib(n.need), hint)
		}
	}
	return nil
}

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

func freeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}

func memAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(l, "MemAvailable: %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	return 0
}

// mount is the entry of /proc/self/mountinfo a path lives under.
type mount struct{ point, fstype, source string }

// String names the file system: "ext4 /dev/vda", or "tmpfs".
func (m mount) String() string {
	if m.source == m.fstype || m.source == "none" {
		return m.fstype
	}
	return m.fstype + " " + m.source
}

func (m mount) inMemory() bool { return m.fstype == "tmpfs" || m.fstype == "ramfs" }

// mountOf finds the mount holding path: the longest mount point that is a
// prefix of its resolved form.
func mountOf(path string) (mount, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return mount{}, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return mount{}, err
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return mount{}, err
	}
	var best mount
	for _, l := range strings.Split(string(b), "\n") {
		// ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 2 {
			continue
		}
		point := unescapeMount(f[4])
		under := abs == point || point == "/" || strings.HasPrefix(abs, point+"/")
		if under && len(point) >= len(best.point) {
			best = mount{point: point, fstype: g[0], source: unescapeMount(g[1])}
		}
	}
	if best.point == "" {
		return mount{}, fmt.Errorf("no mount found for %s", abs)
	}
	return best, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}
