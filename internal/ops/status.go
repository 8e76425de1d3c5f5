package ops

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/printable"
)

// ExitStatus is the contract's exit status of an error of kind k: 0 done,
// 2 a usage error, 1 any other refusal or failure. exec's statuses and the
// subsystem's end-line statuses come from here.
func ExitStatus(k files.Kind) int {
	switch k {
	case files.KindNone:
		return 0
	case files.KindUsage:
		return 2
	}
	return 1
}

// ErrorLine formats an error as the contract's one line:
// "sshelf: COMMAND: NAME: reason".
func ErrorLine(c Command, err error) string {
	parts := []string{"sshelf"}
	if c.Name != "" {
		parts = append(parts, printable.String(c.Name)) // an unknown command is the client's word
	}
	if c.File != "" {
		parts = append(parts, printable.String(c.File))
	}
	parts = append(parts, files.Reason(err))
	// The reason is the server's words; Line is the guard that keeps the
	// whole one printable line whatever a message quoted.
	return printable.Line(strings.Join(parts, ": "))
}

// accountRefusal gives the account rules' refusals their kind and words;
// the auth error stays wrapped for errors.Is.
func accountRefusal(err error) error {
	var r *files.Refusal
	switch {
	case errors.Is(err, auth.ErrDenied):
		r = files.Refuse(files.KindWrongPassword, "wrong password")
	case errors.Is(err, auth.ErrLocked):
		r = files.Refuse(files.KindThrottled, auth.ErrLocked.Error())
	case errors.Is(err, auth.ErrEmptyPass):
		r = files.Refuse(files.KindInvalid, auth.ErrEmptyPass.Error())
	default:
		return err
	}
	return fmt.Errorf("%w: %w", r, err)
}
