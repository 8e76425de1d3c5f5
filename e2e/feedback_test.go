package e2e

import (
	"strings"
	"testing"
)

// TestUnknownEnvLogged: an environment variable sshelf does not use is
// refused, and the refusal is logged with its name, so a user whose SetEnv
// has no effect can be told why; the ones sshelf knows are not.
func TestUnknownEnvLogged(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := doEnv(t, srv, "alice", alicePW, []string{"SSHELF_HIDEN=1", "SSHELF_HIDDEN=1"}, []byte("x\n"), "put", "env.txt")
	mustOK(t, r, "put with SetEnv")
	var names []string
	for _, m := range srv.jsonLines() {
		if m["msg"] == "env refused" {
			n, _ := m["name"].(string)
			names = append(names, n)
		}
	}
	if !contains(names, "SSHELF_HIDEN") {
		t.Errorf("log has env refusals %v, want one for SSHELF_HIDEN", names)
	}
	if contains(names, "SSHELF_HIDDEN") {
		t.Errorf("SSHELF_HIDDEN was logged as refused")
	}
	if strings.Contains(srv.logText(), `"name":"LANG"`) {
		t.Errorf("the locale OpenSSH sends was logged at info level")
	}
}
