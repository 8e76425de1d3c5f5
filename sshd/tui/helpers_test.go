package tui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/testkit"
)

// newService builds a files.Service the way app.Open does, on a temporary
// directory, with cheap password hashing.
func newService(t *testing.T) *files.Service {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlitedb.Open(ctx, filepath.Join(dir, "sshelf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	catalog, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := disk.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	hasher := testkit.CheapHasher(2)
	return files.NewService(files.Config{Catalog: catalog, Blobs: blobs, SpoolDir: blobs.TempDir(), Hasher: hasher})
}

// put uploads content as user.
func put(t *testing.T, svc *files.Service, user string, opt files.PutOptions, content string) files.File {
	t.Helper()
	ctx := context.Background()
	opt.Size = int64(len(content))
	u, err := svc.Create(ctx, user, opt)
	if err != nil {
		t.Fatalf("put %s: %v", opt.Name, err)
	}
	if _, err := u.Write([]byte(content)); err != nil {
		t.Fatalf("put %s: %v", opt.Name, err)
	}
	f, err := u.Commit(ctx)
	if err != nil {
		t.Fatalf("put %s: %v", opt.Name, err)
	}
	return f
}

// newModel is alice's UI at 80x24.
func newModel(t *testing.T, svc *files.Service, user string) *Model {
	t.Helper()
	return New(Options{Files: svc, User: user, Addr: "127.0.0.1:2222", Width: 80, Height: 24})
}

// namedKeys are the keys the tests press by name (as tea.KeyMsg.String
// prints them); any other string is typed as runes.
var namedKeys = map[string]tea.KeyType{
	"enter": tea.KeyEnter, "esc": tea.KeyEsc, "up": tea.KeyUp, "down": tea.KeyDown,
	"home": tea.KeyHome, "end": tea.KeyEnd, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp,
	"backspace": tea.KeyBackspace, "ctrl+c": tea.KeyCtrlC,
}

// keyMsg turns a key name into a message.
func keyMsg(k string) tea.KeyMsg {
	if t, ok := namedKeys[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// press sends keys one by one and runs the changes they start to the end,
// as the program would. It reports whether the model asked to quit.
func press(t *testing.T, m *Model, keys ...string) (quit bool) {
	t.Helper()
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		if drain(t, m, cmd) {
			quit = true
		}
	}
	return quit
}

// typeText sends s as single-rune key presses.
func typeText(t *testing.T, m *Model, s string) {
	t.Helper()
	for _, r := range s {
		press(t, m, string(r))
	}
}

// drain runs cmd and feeds its message back, a bounded number of times.
func drain(t *testing.T, m *Model, cmd tea.Cmd) (quit bool) {
	t.Helper()
	for i := 0; cmd != nil; i++ {
		if i == 10 {
			t.Fatal("commands did not settle")
		}
		msg := cmd()
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
		_, cmd = m.Update(msg)
	}
	return false
}

// screen is the view without styles.
func shown(m *Model) string { return ansi.Strip(m.View()) }

// selectName moves the selection to name, failing if it is not listed.
func selectName(t *testing.T, m *Model, name string) {
	t.Helper()
	press(t, m, "home")
	for i := 0; i < 100; i++ {
		if f := m.win.selected(); f != nil && f.Name == name {
			return
		}
		press(t, m, "down")
	}
	t.Fatalf("%s not in the list:\n%s", name, shown(m))
}

// listed reports whether a table row shows name.
func listed(m *Model, name string) bool {
	for _, f := range m.win.rows {
		if f.Name == name {
			return true
		}
	}
	return false
}

func mustContain(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("screen lacks %q:\n%s", w, s)
		}
	}
}
