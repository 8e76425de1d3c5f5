package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/sshelf/sshelf/files"
)

// fixture: alice owns a.txt (public) and secret.txt (hidden); bob owns
// b.bin (public, protected) and big.dat.
func fixture(t *testing.T) *files.Service {
	t.Helper()
	svc := newService(t)
	put(t, svc, "alice", files.PutOptions{Name: "a.txt"}, "hello")
	put(t, svc, "bob", files.PutOptions{Name: "b.bin", Password: "bobpw"}, "bee")
	put(t, svc, "alice", files.PutOptions{Name: "secret.txt", Hidden: true}, "psst")
	put(t, svc, "bob", files.PutOptions{Name: "big.dat"}, strings.Repeat("x", 5000))
	return svc
}

func TestListShowsPublicFilesOnly(t *testing.T) {
	m := newModel(t, fixture(t), "alice")
	s := shown(m)
	mustContain(t, s, "NAME", "SIZE", "OWNER", "PROT", "UPLOADED", "a.txt", "b.bin", "big.dat", "4.9 KiB", "bob", "yes")
	if strings.Contains(s, "secret.txt") {
		t.Errorf("hidden file listed:\n%s", s)
	}
	// The owner of the hidden file does not see it listed either.
	if listed(m, "secret.txt") {
		t.Error("hidden file in the rows")
	}
}

func TestFitsTheTerminal(t *testing.T) {
	m := newModel(t, fixture(t), "alice")
	for _, size := range [][2]int{{80, 24}, {40, 10}, {132, 43}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, view := range []string{"", "i", "?"} {
			if view != "" {
				press(t, m, view)
			}
			lines := strings.Split(m.View(), "\n")
			if len(lines) != size[1] {
				t.Errorf("%dx%d %q: %d lines", size[0], size[1], view, len(lines))
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%dx%d %q: line %d cells wide: %q", size[0], size[1], view, w, ansi.Strip(l))
				}
			}
			press(t, m, "esc")
		}
	}
}

func TestSelectionReadableWithoutStyles(t *testing.T) {
	m := newModel(t, fixture(t), "alice")
	press(t, m, "down")
	for _, l := range strings.Split(shown(m), "\n") {
		if strings.HasPrefix(l, ">") {
			if !strings.Contains(l, "b.bin") {
				t.Errorf("marked row is %q, want b.bin", l)
			}
			return
		}
	}
	t.Errorf("no row marked with >:\n%s", shown(m))
}

func TestFilter(t *testing.T) {
	m := newModel(t, fixture(t), "alice")
	press(t, m, "/")
	typeText(t, m, "B")
	if listed(m, "a.txt") || !listed(m, "b.bin") || !listed(m, "big.dat") {
		t.Errorf("filter b: rows %v", m.win.rows)
	}
	press(t, m, "enter")
	mustContain(t, shown(m), "filter: B")
	typeText(t, m, "/")
	typeText(t, m, "x")
	mustContain(t, shown(m), `no public file name contains "Bx"`)
	press(t, m, "esc")
	if !listed(m, "a.txt") || m.filter != "" {
		t.Errorf("esc did not clear the filter: %q %v", m.filter, m.win.rows)
	}
	// The filter never reveals a hidden file.
	press(t, m, "/")
	typeText(t, m, "secret")
	if len(m.win.rows) != 0 {
		t.Errorf("filter found %v", m.win.rows)
	}
}

func names(m *Model) []string {
	var out []string
	for _, f := range m.win.rows {
		out = append(out, f.Name)
	}
	return out
}

func TestSort(t *testing.T) {
	m := newModel(t, fixture(t), "alice")
	steps := []struct {
		key   string
		label string
		want  string
	}{
		{"", "name, A-Z", "a.txt b.bin big.dat"},
		{"s", "size, largest first", "big.dat a.txt b.bin"},
		{"r", "size, smallest first", "b.bin a.txt big.dat"},
		{"s", "date, newest first", "big.dat b.bin a.txt"},
		{"r", "date, oldest first", "a.txt b.bin big.dat"},
		{"s", "name, A-Z", "a.txt b.bin big.dat"},
	}
	for _, st := range steps {
		if st.key != "" {
			press(t, m, st.key)
		}
		if got := strings.Join(names(m), " "); got != st.want {
			t.Errorf("after %q: %s, want %s", st.key, got, st.want)
		}
		mustContain(t, shown(m), "sort: "+st.label)
	}
}

func TestInfo(t *testing.T) {
	svc := fixture(t)
	a, err := svc.Info(context.Background(), "alice", "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(t, svc, "alice")
	press(t, m, "enter")
	mustContain(t, shown(m),
		"name:", "a.txt", "size:", "5 bytes", "owner:", "alice", "visibility: public", "protected:  no",
		"sha256:", a.SHA256, "uploaded:", a.Uploaded.Format("2006-01-02T15:04:05"),
		"ssh -p 2222 alice@127.0.0.1 get a.txt > a.txt",
		"scp -P 2222 alice@127.0.0.1:a.txt a.txt",
		"sftp -P 2222 alice@127.0.0.1:a.txt a.txt")
	press(t, m, "esc", "down", "enter")
	// A command longer than the screen wraps without losing a character.
	joined := strings.ReplaceAll(shown(m), "\n", "")
	mustContain(t, joined, "b.bin", "protected:  yes",
		"ssh -p 2222 -o SetEnv=SSHELF_FILE_PASSWORD=PASSWORD alice@127.0.0.1 get b.bin > b.bin",
		"--password PASSWORD")
}

func TestDownloadCommandsQuote(t *testing.T) {
	got := downloadCommands(files.File{Name: "it's a file"}, "al ice", "[::1]:22")
	want := []string{
		`ssh -p 22 'al ice@::1' get 'it'\''s a file' > 'it'\''s a file'`,
		`scp -P 22 'al ice@[::1]:it'\''s a file' 'it'\''s a file'`,
		`sftp -P 22 'al ice@[::1]:it'\''s a file' 'it'\''s a file'`,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got  %s\nwant %s", got[i], want[i])
		}
	}
}

func TestDeleteOwnFile(t *testing.T) {
	svc := fixture(t)
	m := newModel(t, svc, "alice")
	selectName(t, m, "a.txt")
	mustContain(t, shown(m), "d delete")
	press(t, m, "d")
	mustContain(t, shown(m), `Delete "a.txt"? (y/n)`)
	press(t, m, "n")
	if !listed(m, "a.txt") {
		t.Fatal("n deleted")
	}
	press(t, m, "d", "y")
	mustContain(t, shown(m), `deleted "a.txt"`)
	if listed(m, "a.txt") {
		t.Error("still listed")
	}
	if _, err := svc.Info(context.Background(), "alice", "a.txt"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("still stored: %v", err)
	}
}

func TestOthersFileOffersNoChanges(t *testing.T) {
	m := newModel(t, fixture(t), "alice")
	selectName(t, m, "b.bin")
	keys := ansi.Strip(m.keyLine())
	for _, k := range []string{"delete", "hide", "protect"} {
		if strings.Contains(keys, k) {
			t.Errorf("key line offers %s on bob's file: %s", k, keys)
		}
	}
}

// Each change tried on another's file anyway shows the service's refusal
// and changes nothing.
func TestRefusals(t *testing.T) {
	refused := files.Reason(files.ErrPermission)
	cases := []struct {
		name string
		keys []string
	}{
		{"delete", []string{"d", "y"}},
		{"hide", []string{"h"}},
		{"unhide", []string{"u"}},
		{"protect", []string{"p", "bobpw", "enter", "new", "enter", "new", "enter"}},
		{"unprotect", []string{"x", "bobpw", "enter"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc := fixture(t)
			before, _ := svc.Info(context.Background(), "bob", "b.bin")
			m := newModel(t, svc, "alice")
			selectName(t, m, "b.bin")
			for _, k := range c.keys {
				if len(k) > 1 && k != "enter" {
					typeText(t, m, k)
				} else {
					press(t, m, k)
				}
			}
			mustContain(t, shown(m), `error: "b.bin": `+refused)
			after, err := svc.Info(context.Background(), "bob", "b.bin")
			if err != nil || after != before {
				t.Errorf("file changed: %+v, %v", after, err)
			}
		})
	}
}

func TestHideAndOpenByNameAndUnhide(t *testing.T) {
	svc := fixture(t)
	m := newModel(t, svc, "alice")
	selectName(t, m, "a.txt")
	press(t, m, "h")
	mustContain(t, shown(m), `hid "a.txt"`)
	if listed(m, "a.txt") {
		t.Fatal("hidden file still listed")
	}
	press(t, m, "o")
	typeText(t, m, "a.txt")
	press(t, m, "enter")
	mustContain(t, shown(m), "visibility: hidden", "u unhide")
	press(t, m, "u")
	mustContain(t, shown(m), `unhid "a.txt"`, "visibility: public")
	press(t, m, "esc")
	if !listed(m, "a.txt") {
		t.Error("unhidden file not listed")
	}
}

func TestOpenHiddenFileByName(t *testing.T) {
	m := newModel(t, fixture(t), "bob")
	press(t, m, "o")
	typeText(t, m, "secret.txt")
	press(t, m, "enter")
	mustContain(t, shown(m), "secret.txt", "owner:      alice", "visibility: hidden")
	press(t, m, "esc", "o")
	typeText(t, m, "nope")
	press(t, m, "enter")
	mustContain(t, shown(m), "error: no such file")
}

func TestProtectAndUnprotect(t *testing.T) {
	svc := fixture(t)
	ctx := context.Background()
	m := newModel(t, svc, "alice")
	selectName(t, m, "a.txt")

	press(t, m, "p")
	typeText(t, m, "s3cret")
	if strings.Contains(shown(m), "s3cret") || !strings.Contains(shown(m), "******") {
		t.Fatalf("password echoed or not masked:\n%s", shown(m))
	}
	press(t, m, "enter")
	typeText(t, m, "s3creX")
	press(t, m, "enter")
	mustContain(t, shown(m), "error: the two passwords differ")
	if f, _ := svc.Info(ctx, "alice", "a.txt"); f.Protected {
		t.Fatal("protected despite the mismatch")
	}

	press(t, m, "p")
	typeText(t, m, "s3cret")
	press(t, m, "enter")
	typeText(t, m, "s3cret")
	press(t, m, "enter")
	mustContain(t, shown(m), `protected "a.txt"`, "x unprotect")
	if f, _ := svc.Info(ctx, "alice", "a.txt"); !f.Protected {
		t.Fatal("not protected")
	}
	if d, err := svc.Open(ctx, "alice", "a.txt", "s3cret"); err != nil {
		t.Fatalf("the typed password does not open it: %v", err)
	} else {
		d.Close()
	}

	press(t, m, "x")
	typeText(t, m, "wrong")
	press(t, m, "enter")
	mustContain(t, shown(m), "error: \"a.txt\": wrong download password")

	// Changing the password asks for the current one first.
	press(t, m, "p")
	mustContain(t, shown(m), "Current download password")
	press(t, m, "esc")

	press(t, m, "x")
	typeText(t, m, "s3cret")
	press(t, m, "enter")
	mustContain(t, shown(m), `unprotected "a.txt"`)
	if f, _ := svc.Info(ctx, "alice", "a.txt"); f.Protected {
		t.Fatal("still protected")
	}
}

func TestHelpAndQuit(t *testing.T) {
	m := newModel(t, fixture(t), "alice")
	press(t, m, "?")
	mustContain(t, shown(m), "Keys", "filter by name", "open a file by its exact name", "quit")
	press(t, m, "j")
	mustContain(t, shown(m), "NAME")
	if !press(t, m, "q") {
		t.Error("q did not quit")
	}
	// In a text box q is text, not quit.
	press(t, m, "/")
	if press(t, m, "q") {
		t.Error("q in the filter box quit")
	}
	if !press(t, m, "ctrl+c") {
		t.Error("ctrl+c did not quit")
	}
}

func TestResize(t *testing.T) {
	m := newModel(t, fixture(t), "alice")
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	if n := len(strings.Split(m.View(), "\n")); n != 30 {
		t.Errorf("%d lines after resize to 30", n)
	}
	if w := ansi.StringWidth(strings.Split(m.View(), "\n")[0]); w != 100 {
		t.Errorf("title %d wide after resize to 100", w)
	}
}

// Keys typed ahead arrive as one message over ssh; each still counts.
func TestTypedAheadKeys(t *testing.T) {
	svc := fixture(t)
	m := newModel(t, svc, "alice")
	press(t, m, "jd")
	mustContain(t, shown(m), `Delete "b.bin"? (y/n)`)
	press(t, m, "n", "/")
	press(t, m, "big")
	if got := strings.Join(names(m), " "); got != "big.dat" || m.filter != "big" {
		t.Errorf("filter %q lists %s", m.filter, got)
	}
}
