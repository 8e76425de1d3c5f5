package framing

import (
	"bytes"
	"testing"
)

// The end line's guard escapes whatever reaches it raw.
func TestWriteEndGuard(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	WriteEnd(&b, 2, "sshelf: a\u0085\nb\u202e")
	if got, want := b.String(), "E 2 sshelf: a\\u0085\\nb\\u202e\n"; got != want {
		t.Errorf("WriteEnd = %q, want %q", got, want)
	}
}
