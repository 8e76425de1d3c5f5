package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/internal/passhash"
)

func TestIsAnswer(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{auth.ErrDenied, true},
		{fmt.Errorf("login alice: %w", auth.ErrLocked), true},
		{&auth.Refusal{Blocked: auth.BlockedAddress}, true},
		{passhash.ErrBusy, true},
		{context.Canceled, true},
		{errors.New("catalog unreachable: connection refused"), false},
	} {
		if got := auth.IsAnswer(tt.err); got != tt.want {
			t.Errorf("IsAnswer(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
