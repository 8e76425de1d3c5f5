package sshd_test

import (
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/internal/ops"
)

// TestCommandTableDrivesEveryWayIn walks internal/ops' table: `help`
// shows every entry in its order, and exec and the subsystem both know
// every entry (a bare command is at worst its own usage error, never an
// unknown command) and nothing else. The TUI's side is in sshd/tui.
func TestCommandTableDrivesEveryWayIn(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	conn := srv.Dial(t, "alice", "pw-a")

	_, _ = run(t, conn, "whoami", "", false) // the account exists
	help := execOut(t, conn, "help")
	at := 0
	for _, spec := range ops.Specs() {
		i := strings.Index(help[at:], spec.Usage)
		if i < 0 {
			t.Errorf("help lacks %s, or out of the table's order: %q", spec.Name, spec.Usage)
			continue
		}
		at += i + len(spec.Usage)
	}

	sub := openRaw(t, conn)
	for _, spec := range append(ops.Specs(), ops.Spec{Name: "frobnicate"}) {
		_, known := ops.Lookup(spec.Name)
		// exec: "help" and "whoami" succeed, the rest want arguments or input.
		code, stderr := run(t, conn, spec.Name, "", false)
		unknown := strings.Contains(stderr, "unknown command")
		if unknown == known || (!known && code != 2) {
			t.Errorf("exec %s: status %d, %q; known to the table: %v", spec.Name, code, stderr, known)
		}
		if code != 0 && !strings.HasPrefix(stderr, "sshelf: "+spec.Name+": ") {
			t.Errorf("exec %s: error line %q does not name the command", spec.Name, stderr)
		}
		if spec.Name == "passwd" {
			continue // its empty content is a usage error here too, and proves nothing more
		}
		r := sub.request(spec.Name, "")
		if strings.Contains(r.message, "unknown command") == known {
			t.Errorf("subsystem %s: %+v; known to the table: %v", spec.Name, r, known)
		}
	}
}

// execOut runs command and returns its standard output.
func execOut(t *testing.T, conn *gossh.Client, command string) string {
	t.Helper()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatalf("%s: session: %v", command, err)
	}
	defer sess.Close()
	out, err := sess.Output(command)
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	return string(out)
}
