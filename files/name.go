package files

import (
	"fmt"
	"unicode/utf8"
)

// MaxNameLen is the longest valid name, in bytes.
const MaxNameLen = 255

// NameError says why a name is invalid. It matches ErrBadName.
type NameError struct{ Reason string }

func (e *NameError) Error() string        { return ErrBadName.Error() + ": " + e.Reason }
func (e *NameError) Is(target error) bool { return target == ErrBadName }

func badName(format string, args ...any) error {
	return &NameError{Reason: fmt.Sprintf(format, args...)}
}

// ValidateName checks the contract's rule for names: 1 to 255 bytes of UTF-8,
// no '/', no NUL or other control character, not "." or "..".
func ValidateName(name string) error {
	switch {
	case name == "":
		return badName("empty")
	case len(name) > MaxNameLen:
		return badName("longer than %d bytes", MaxNameLen)
	case name == "." || name == "..":
		return badName("%q is reserved", name)
	case !utf8.ValidString(name):
		return badName("not UTF-8")
	}
	for _, r := range name {
		switch {
		case r == '/':
			return badName("contains '/'")
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return badName("contains a control character")
		}
	}
	return nil
}
