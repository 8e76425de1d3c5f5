package e2e

// The operator's commands: sshelf version, check, backup; the refusal of a
// data directory that does not exist.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/testkit"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	line := regexp.MustCompile(`^sshelf \S+ \(.*go1\.[0-9][^)]*\)\n$`)
	for _, arg := range []string{"version", "--version"} {
		r := cli(t, nil, nil, arg)
		if r.code != 0 || !line.Match(r.stdout) || len(r.stderr) != 0 {
			t.Errorf("sshelf %s: want one version line, got %v", arg, r)
		}
	}
	// Start-up logs it too.
	srv := startServer(t)
	for _, m := range srv.jsonLines() {
		if m["msg"] == "listening" {
			if v, _ := m["version"].(string); v == "" {
				t.Errorf("listening line %v has no version", m)
			}
		}
	}
}

// A mistyped --data is refused with its path named, and nothing is created.
func TestOpsRefuseMissingDataDir(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	missing := filepath.Join(base, "nonexistent")
	cases := []struct {
		env  []string
		args []string
	}{
		{args: []string{"user", "list", "--data", missing}},
		{env: []string{"SSHELF_DATA=" + missing}, args: []string{"user", "list"}},
		{args: []string{"user", "add", "alice", "--data", missing}},
		{args: []string{"check", "--data", missing}},
		{args: []string{"backup", filepath.Join(base, "dest"), "--data", missing}},
	}
	for _, c := range cases {
		r := cli(t, c.env, []byte("pw\n"), c.args...)
		expectErr(t, r, 1, "sshelf: ", fmt.Sprint(c.args))
		if !strings.Contains(string(r.stderr), missing+" does not exist") {
			t.Errorf("sshelf %q: stderr %q does not name %s", c.args, r.stderr, missing)
		}
	}
	if e, _ := os.ReadDir(base); len(e) != 0 {
		t.Errorf("refused commands created %v", e)
	}
}

// catalogRecord reads a record straight from the catalog (the server may
// be running: the catalog is in WAL mode).
func catalogRecord(t *testing.T, dataDir, name string) (r files.Record) {
	t.Helper()
	withCatalog(t, dataDir, func(ctx context.Context, cat *sqlite.Catalog) {
		var err error
		if r, err = cat.Lookup(ctx, name); err != nil {
			t.Fatalf("catalog lookup %q: %v", name, err)
		}
	})
	return r
}

func blobFile(dataDir, key string) string {
	return filepath.Join(dataDir, "blobs", key[:2], key)
}

func checkCLI(t *testing.T, dataDir string, flags ...string) result {
	t.Helper()
	return cli(t, nil, nil, append([]string{"check", "--data", dataDir}, flags...)...)
}

// lastLine is the last line of out.
func lastLine(out []byte) string {
	lines := scanLines(out)
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

func TestCheckFindsDamage(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	srv := in.start(t)
	a, b, c := []byte("alpha\n"), testkit.RandBytes(t, 200<<10), []byte("gamma\n")
	put(t, srv, "alice", alicePW, "a.txt", a)
	put(t, srv, "alice", alicePW, "b.bin", b, "--hidden")
	put(t, srv, "bob", bobPW, "c.txt", c)
	total := len(a) + len(b) + len(c)

	// Clean, with the server running.
	r := checkCLI(t, in.dataDir)
	want := fmt.Sprintf("checked 3 files, %d bytes: 0 corrupt, 0 missing, 0 orphans\n", total)
	if r.code != 0 || string(r.stdout) != want {
		t.Fatalf("check of a clean store: want exit 0 and %q, got %v", want, r)
	}

	// One byte flipped on disk, one content deleted, one orphan.
	bFile := blobFile(in.dataDir, catalogRecord(t, in.dataDir, "b.bin").Blob)
	raw, err := os.ReadFile(bFile)
	if err != nil {
		t.Fatal(err)
	}
	raw[1000] ^= 0x20
	if err := os.WriteFile(bFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cKey := catalogRecord(t, in.dataDir, "c.txt").Blob
	if err := os.Remove(blobFile(in.dataDir, cKey)); err != nil {
		t.Fatal(err)
	}
	orphan := strings.Repeat("ab", 16)
	if err := os.MkdirAll(filepath.Dir(blobFile(in.dataDir, orphan)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blobFile(in.dataDir, orphan), []byte("nobody's"), 0o600); err != nil {
		t.Fatal(err)
	}

	r = checkCLI(t, in.dataDir, "--remove-orphans")
	if r.code != 1 {
		t.Fatalf("check of a damaged store: want exit 1, got %v", r)
	}
	out := string(r.stdout)
	for _, w := range []string{
		"corrupt: b.bin: sha256 " + testkit.SHA256Hex(raw) + ", recorded " + testkit.SHA256Hex(b) + "\n",
		"missing: c.txt: content not found\n",
		"orphan: content " + orphan + " (8 bytes, ",
		"kept: younger than 1h", // a server may be committing it
	} {
		if !strings.Contains(out, w) {
			t.Errorf("check output lacks %q:\n%s", w, out)
		}
	}
	if l := lastLine(r.stdout); !strings.HasPrefix(l, "checked 3 files, ") || !strings.HasSuffix(l, ": 1 corrupt, 1 missing, 1 orphans") {
		t.Errorf("summary line %q", l)
	}
	if _, err := os.Stat(blobFile(in.dataDir, orphan)); err != nil {
		t.Errorf("a young orphan was removed: %v", err)
	}
	// What the check found is what a download meets.
	if r := do(t, srv, "bob", bobPW, nil, "get", "b.bin"); r.code == 0 || !strings.Contains(string(r.stderr), "b.bin") {
		t.Errorf("get of the corrupt b.bin: want a failure naming it, got %v", r)
	}

	// A name from an older server's catalog is escaped in the report.
	srv.stop(t)
	legacy := "evil\u202etxt"
	renameInCatalog(t, in.dataDir, "b.bin", legacy)
	r = checkCLI(t, in.dataDir)
	if r.code != 1 || !strings.Contains(string(r.stdout), "corrupt: evil\\u202etxt: sha256 ") || strings.Contains(string(r.stdout), legacy) {
		t.Errorf("check with a legacy name: want it escaped, got %v", r)
	}
}

// A backup taken while uploads, replacements and removals go on restores
// to a server where every file verifies and no partial upload appears.
func TestBackupDuringUploads(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	srv := in.start(t)
	login(t, srv, "alice", alicePW)

	// Every version ever uploaded, by name: a restored file must be one.
	var mu sync.Mutex
	versions := map[string]map[string]bool{}
	record := func(name string, content []byte) {
		mu.Lock()
		defer mu.Unlock()
		if versions[name] == nil {
			versions[name] = map[string]bool{}
		}
		versions[name][testkit.SHA256Hex(content)] = true
	}
	const seeded = 8
	for i := range seeded {
		content := testkit.RandBytes(t, 8<<10+i)
		put(t, srv, "alice", alicePW, fmt.Sprintf("seed-%d", i), content)
		record(fmt.Sprintf("seed-%d", i), content)
	}

	// An upload in flight for the whole backup: part of it is on the
	// server's disk, uncommitted.
	cmd, stdin, _, stderr, _ := startUpload(t, srv, "alice", alicePW, "partial.bin")
	if _, err := stdin.Write(testkit.RandBytes(t, 1<<20)); err != nil {
		t.Fatalf("partial upload: %v (%s)", err, stderr.String())
	}
	if !pollUntil(sshTimeout, func() bool {
		e, _ := os.ReadDir(filepath.Join(in.dataDir, "tmp"))
		return len(e) > 0
	}) {
		t.Fatal("the partial upload never reached DATA/tmp")
	}

	// Uploads, replacements (of seeded and new files) and removals, a few
	// at a time, while the backup runs.
	// The backup starts once the first few are done, so that the rest
	// overlap it.
	const jobs, parallel, before = 24, 4, 4
	sem := make(chan struct{}, parallel)
	var wg, first sync.WaitGroup
	first.Add(before)
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i < before {
				defer first.Done()
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			if i%6 == 5 {
				r := srv.ssh(t, sshOpts{user: "alice", pw: alicePW}, "rm", fmt.Sprintf("seed-%d", i%seeded))
				if r.code != 0 && !strings.Contains(string(r.stderr), "no such file") {
					t.Errorf("rm during backup: %v", r)
				}
				return
			}
			name := fmt.Sprintf("up-%d", i%5)
			if i%3 == 0 {
				name = fmt.Sprintf("seed-%d", i%seeded)
			}
			content := testkit.RandBytes(t, 64<<10+i*4099)
			record(name, content)
			r := srv.ssh(t, sshOpts{user: "alice", pw: alicePW, stdin: strings.NewReader(string(content))}, "put", name)
			if r.code != 0 {
				t.Errorf("put %s during backup: %v", name, r)
			}
		}()
	}
	restored := newInstance(t)
	first.Wait()
	br := cli(t, nil, nil, "backup", restored.dataDir, "--data", in.dataDir)
	wg.Wait()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if br.code != 0 || !strings.HasPrefix(lastLine(br.stdout), "backed up ") {
		t.Fatalf("backup: want exit 0 and a summary, got %v", br)
	}
	t.Logf("backup: %s%s", br.stdout, br.stderr)
	if e, _ := os.ReadDir(filepath.Join(restored.dataDir, "tmp")); len(e) != 0 {
		t.Errorf("the backup holds uploads in progress: %v", e)
	}

	// The restored data directory verifies, and a server starts from it.
	if r := checkCLI(t, restored.dataDir); r.code != 0 || !strings.HasSuffix(lastLine(r.stdout), ": 0 corrupt, 0 missing, 0 orphans") {
		t.Fatalf("check of the backup: %v", r)
	}
	srv.stop(t)
	rsrv := restored.start(t)
	if got, want := rsrv.hostKeyFingerprints(), srv.hostKeyFingerprints(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("restored host keys %v, want the original %v", got, want)
	}
	list := lsJSON(t, rsrv, "alice", alicePW)
	if len(list) == 0 {
		t.Fatal("the restored server lists no files")
	}
	for _, f := range list {
		if f.Name == "partial.bin" {
			t.Errorf("the partial upload appears in the backup: %+v", f)
			continue
		}
		mu.Lock()
		known := versions[f.Name][f.SHA256]
		mu.Unlock()
		if !known {
			t.Errorf("restored %s has sha256 %s, which was never uploaded under that name", f.Name, f.SHA256)
		}
		if got := get(t, rsrv, "alice", alicePW, f.Name); testkit.SHA256Hex(got) != f.SHA256 || int64(len(got)) != f.Size {
			t.Errorf("restored %s: downloaded %d bytes, sha256 %s; listed %d, %s", f.Name, len(got), testkit.SHA256Hex(got), f.Size, f.SHA256)
		}
	}
	// Files untouched by the jobs are all there.
	names := map[string]bool{}
	for _, f := range list {
		names[f.Name] = true
	}
	for i := range seeded {
		touched := false
		for j := range jobs {
			touched = touched || j%seeded == i && (j%6 == 5 || j%3 == 0)
		}
		if !touched && !names[fmt.Sprintf("seed-%d", i)] {
			t.Errorf("seed-%d, untouched during the backup, is missing from it", i)
		}
	}
	if r := checkCLI(t, restored.dataDir); r.code != 0 {
		t.Errorf("check of the restored store, served: %v", r)
	}
}

// A backup refuses a destination that holds something.
func TestBackupRefusesNonEmptyDest(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	srv := in.start(t)
	put(t, srv, "alice", alicePW, "a.txt", []byte("a"))
	dest := t.TempDir()
	if err := os.WriteFile(filepath.Join(dest, "keep"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, nil, nil, "backup", dest, "--data", in.dataDir)
	expectErr(t, r, 1, "sshelf: backup to "+dest+": ", "backup into a non-empty folder")
	if e, _ := os.ReadDir(dest); len(e) != 1 {
		t.Errorf("the refused backup wrote into %s: %v", dest, e)
	}
}
