package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/internal/ops"
)

// TestKeysAgreeWithTheCommandTable: every command of internal/ops' table
// that has a TUI key is on the help screen under that key, and pressing
// it on one's own file runs that command (the observer is told, under the
// table's name); info's key opens the info screen.
func TestKeysAgreeWithTheCommandTable(t *testing.T) {
	keyed := 0
	for _, spec := range ops.Specs() {
		if spec.Key == "" {
			continue
		}
		keyed++
		t.Run(spec.Name, func(t *testing.T) {
			if !inKeyHelp(spec.Key) {
				t.Errorf("key %q of %s is not on the help screen", spec.Key, spec.Name)
			}
			var events []ops.Event
			m := New(Options{Files: fixture(t), User: "alice", Addr: "127.0.0.1:2222", Width: 80, Height: 24,
				Observe: func(_ context.Context, e ops.Event) { events = append(events, e) }, Client: "127.0.0.1:9"})
			selectName(t, m, "a.txt")
			press(t, m, spec.Key)
			for i := 0; m.prompt != nil && i < 5; i++ { // answer what it asks
				if m.prompt.yesNo {
					press(t, m, "y")
				} else {
					typeText(t, m, "pw")
					press(t, m, "enter")
				}
			}
			if spec.Name == "info" {
				if m.screen != screenInfo || len(events) != 0 {
					t.Errorf("%q: screen %v, events %+v; want the info screen", spec.Key, m.screen, events)
				}
				return
			}
			if len(events) != 1 || events[0].Command != spec.Name || events[0].Name != "a.txt" ||
				events[0].Transport != "tui" || events[0].User != "alice" || events[0].Addr != "127.0.0.1:9" {
				t.Errorf("%q: events %+v; want one %s of a.txt", spec.Key, events, spec.Name)
			}
		})
	}
	if keyed == 0 {
		t.Fatal("no command has a TUI key")
	}
}

// inKeyHelp reports whether key is one of the keys a help row names.
func inKeyHelp(key string) bool {
	for _, row := range keyHelp {
		for _, k := range strings.FieldsFunc(row[0], func(r rune) bool { return r == ',' || r == '/' || r == ' ' }) {
			if k == key {
				return true
			}
		}
	}
	return false
}
