package files

import "errors"

// Kind is what sort of refusal an error is: the one vocabulary every way
// in derives its answer from (exit status, SFTP status, scp message, the
// subsystem's end-line token). Its value is the token itself.
type Kind string

// The kinds. A refusal of the rules is one of them; KindInternal is a
// failure of the server, whose detail is for the operator only.
const (
	KindNone             Kind = ""                  // no error
	KindNotFound         Kind = "not-found"         // no such file
	KindPermission       Kind = "permission"        // not the owner; no directories
	KindNameTaken        Kind = "name-taken"        // another user's file has the name
	KindPasswordRequired Kind = "password-required" // a protected file and no password
	KindWrongPassword    Kind = "wrong-password"    // a wrong download (or account) password
	KindThrottled        Kind = "throttled"         // too many wrong tries; try again later
	KindBusy             Kind = "busy"              // too much work waiting; try again later
	KindQuota            Kind = "quota"             // the account's quota or the largest file size
	KindNoSpace          Kind = "no-space"          // the server's disk is below its reserve
	KindBadName          Kind = "bad-name"          // not a valid file name
	KindInvalid          Kind = "invalid"           // a value the rules refuse: an empty password (API callers: a bad SHA-256)
	KindConflict         Kind = "conflict"          // the file's or account's state forbids it now
	KindUsage            Kind = "usage"             // a command line or request that does not parse
	KindUnsupported      Kind = "unsupported"       // an operation sshelf does not do
	KindIntegrity        Kind = "integrity"         // content does not match its sha256
	KindIncomplete       Kind = "incomplete"        // an upload that did not arrive whole
	KindInternal         Kind = "internal"          // the server failed
)

// Kinds lists every kind but KindNone, for tables and tests.
var Kinds = []Kind{
	KindNotFound, KindPermission, KindNameTaken, KindPasswordRequired, KindWrongPassword,
	KindThrottled, KindBusy, KindQuota, KindNoSpace, KindBadName, KindInvalid, KindConflict,
	KindUsage, KindUnsupported, KindIntegrity, KindIncomplete, KindInternal,
}

// sentinels gives each sentinel error of this package its one kind. The
// first match wins, so an error wrapping two reads as the first listed;
// the wrapped incomplete uploads come before ErrIncomplete for their words.
var sentinels = []struct {
	err  error
	kind Kind
}{
	{ErrNotFound, KindNotFound},
	{ErrPermission, KindPermission},
	{ErrNameTaken, KindNameTaken},
	{ErrBadName, KindBadName},
	{ErrPasswordRequired, KindPasswordRequired},
	{ErrWrongPassword, KindWrongPassword},
	{ErrThrottled, KindThrottled},
	{ErrNotProtected, KindConflict},
	{ErrEmptyPassword, KindInvalid},
	{ErrQuota, KindQuota},
	{ErrTooLarge, KindQuota},
	{ErrHashMismatch, KindIntegrity},
	{ErrBadHash, KindInvalid},
	{ErrGaps, KindIncomplete},
	{ErrFragmented, KindIncomplete},
	{ErrIncomplete, KindIncomplete},
	{ErrCorrupt, KindIntegrity},
	{ErrNoSpace, KindNoSpace},
	{ErrClosed, KindConflict},
	{ErrConflict, KindConflict},
	{ErrExists, KindConflict},
	{ErrAccountGone, KindConflict},
	{ErrBusy, KindBusy},
	{ErrUnavailable, KindBusy},
	{ErrTruncateGrow, KindUnsupported},
	{ErrInPlace, KindUnsupported},
}

// Refusal is a refusal made outside this package (a usage error, a
// transport's own refusal, an account rule) with its kind and its words.
// Wrap it with %w to add detail; Detailed says that detail is for the user
// too (what was malformed about a request), else only Msg is shown.
type Refusal struct {
	Kind     Kind
	Msg      string
	Detailed bool
}

func (r *Refusal) Error() string { return r.Msg }

// Refuse returns a Refusal of kind with the words msg.
func Refuse(kind Kind, msg string) *Refusal { return &Refusal{Kind: kind, Msg: msg} }

// kinded is an error that knows its kind and its user-facing words.
type kinded interface {
	error
	Kind() Kind
	Reason() string
}

// KindOf returns err's kind: KindNone for nil, KindInternal for an error
// that is no refusal.
func KindOf(err error) Kind {
	k, _ := classify(err)
	return k
}

// Reason returns the text to show a user for err: a rule's own words for
// a refusal, never a path or other server detail; "internal error" else.
func Reason(err error) string {
	_, r := classify(err)
	return r
}

// IsUserError reports whether err is a refusal (a kind other than
// internal), rather than a failure of the server.
func IsUserError(err error) bool {
	k := KindOf(err)
	return k != KindNone && k != KindInternal
}

// classify is KindOf and Reason in one: the one place an error is read.
func classify(err error) (Kind, string) {
	if err == nil {
		return KindNone, ""
	}
	var kd kinded
	if errors.As(err, &kd) {
		return kd.Kind(), kd.Reason()
	}
	var rf *Refusal
	if errors.As(err, &rf) {
		if rf.Detailed {
			return rf.Kind, err.Error()
		}
		return rf.Kind, rf.Msg
	}
	var ne *NameError
	if errors.As(err, &ne) {
		return KindBadName, ne.Error()
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.kind, s.err.Error()
		}
	}
	return KindInternal, "internal error"
}
