package files

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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

// ValidateName checks the contract's rule for names: 1 to 255 bytes of
// UTF-8 in Unicode normal form C, no '/', no control character (C0, DEL,
// C1), no format character (bidi controls, zero-width characters, BOM,
// tags), no line or paragraph separator, not "." or "..". A name that
// breaks it is refused, never normalised: the user chose those bytes, and
// two spellings of one name must not both exist.
func ValidateName(name string) error {
	if err := validateShape(name); err != nil {
		return err
	}
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Cf, r):
			return badName("contains an invisible format character (%U)", r)
		case unicode.In(r, unicode.Zl, unicode.Zp):
			return badName("contains a line or paragraph separator (%U)", r)
		}
	}
	if !norm.NFC.IsNormalString(name) {
		return badName("not in Unicode normal form C (NFC)")
	}
	return nil
}

// validateExisting is the older, looser rule: what a name already stored
// may hold. Removing and renaming accept it, so that an owner can still
// clean up a file named before ValidateName grew stricter; everything else
// (uploads, downloads, info) takes ValidateName.
func validateExisting(name string) error {
	return validateShape(name)
}

// validateShape is the part of the rule every stored name has always met:
// its length, UTF-8, no '/', no control character, not "." or "..".
func validateShape(name string) error {
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
			return badName("contains a control character (%U)", r)
		}
	}
	return nil
}
