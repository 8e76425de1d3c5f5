package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/files"
)

// Rule 3 on the info screen: bob's protected b.bin shows its SHA-256 to
// bob only; alice sees it as protected, without the hash.
func TestInfoWithholdsProtectedHash(t *testing.T) {
	svc := fixture(t)
	b, err := svc.Info(context.Background(), "bob", "b.bin")
	if err != nil || len(b.SHA256) != 64 {
		t.Fatalf("bob's own info: %+v, %v", b, err)
	}
	for _, tt := range []struct {
		user     string
		showHash bool
	}{{"bob", true}, {"alice", false}} {
		m := newModel(t, svc, tt.user)
		selectName(t, m, "b.bin")
		press(t, m, "enter")
		s := strings.ReplaceAll(shown(m), "\n", "")
		mustContain(t, s, "b.bin", "protected:  yes")
		if got := strings.Contains(s, b.SHA256); got != tt.showHash {
			t.Errorf("%s: hash shown %v, want %v:\n%s", tt.user, got, tt.showHash, shown(m))
		}
		if !tt.showHash {
			mustContain(t, s, withheldHash)
		}
	}
}

// A name stored before the name rule grew stricter shows escaped in the
// table and on the info screen, never as a raw bidi control.
func TestLegacyNameShownEscaped(t *testing.T) {
	m := newModel(t, newService(t), "alice")
	// The service no longer stores such a name: the row is set directly.
	m.win.rows = []files.File{{Name: "evil\u202etxt.exe", Owner: "alice"}}
	s := shown(m)
	if strings.ContainsRune(s, '\u202e') {
		t.Errorf("raw U+202E on the screen:\n%s", s)
	}
	mustContain(t, s, `evil\u202etxt.exe`)
	lines := m.infoLines(files.File{Name: "evil\u202etxt.exe", Owner: "alice", SHA256: strings.Repeat("0", 64)}, 80)
	joined := strings.Join(lines, "\n")
	if strings.ContainsRune(joined, '\u202e') {
		t.Errorf("raw U+202E on the info screen:\n%s", joined)
	}
}
