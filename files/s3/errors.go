package s3store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sshelf/sshelf/files"
)

// Failures of the store as a whole, as Open, Ping and every operation
// report them (wrapped, with the cause).
var (
	ErrUnreachable  error = unreachableError{}
	ErrNoSuchBucket       = errors.New("no such bucket")
	ErrAccessDenied       = errors.New("access denied (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
)

// unreachableError is ErrUnreachable: to the rules (files.KindOf) the
// storage is unavailable, which a client may try again later.
type unreachableError struct{}

func (unreachableError) Error() string        { return "object store unreachable" }
func (unreachableError) Is(target error) bool { return target == files.ErrUnavailable }

// bucketError explains a failed check of the bucket.
func (s *Store) bucketError(err error) error {
	switch status := httpStatus(err); {
	case ctxError(err):
		return fmt.Errorf("%s: %w", s.where, err)
	case unreachable(err):
		return fmt.Errorf("%s: %w: %w", s.where, ErrUnreachable, err)
	case denied(err):
		return fmt.Errorf("%s: %w: %w", s.where, ErrAccessDenied, err)
	case status == 404:
		return fmt.Errorf("%s: %w", s.where, ErrNoSuchBucket)
	case status == 301 || status == 307:
		return fmt.Errorf("%s: the bucket is in another region: %w", s.where, err)
	default:
		return fmt.Errorf("%s: %w", s.where, err)
	}
}

// fail wraps an operation's error: a missing object becomes fs.ErrNotExist,
// a store out of reach ErrUnreachable.
func (s *Store) fail(what string, err error) error {
	switch {
	case ctxError(err):
		return fmt.Errorf("%s: %w", what, err)
	case errorCode(err) == "NoSuchUpload":
		return fmt.Errorf("%s: the multipart upload is gone (aborted meanwhile): %w", what, err)
	case notFound(err):
		return fmt.Errorf("%s: %w", what, fs.ErrNotExist)
	case unreachable(err):
		return fmt.Errorf("%s: %w (%s): %w", what, ErrUnreachable, s.where, err)
	case denied(err):
		return fmt.Errorf("%s: %s: %w: %w", what, s.where, ErrAccessDenied, err)
	default:
		return fmt.Errorf("%s: %s: %w", what, s.where, err)
	}
}

func ctxError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// unreachable reports whether err is no answer (a connection refused,
// reset or silent) or the store saying it cannot serve now.
func unreachable(err error) bool {
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return true
	}
	switch httpStatus(err) {
	case 500, 502, 503, 504:
		return true
	}
	return false
}

// denied reports whether the store refused the credentials or their use.
func denied(err error) bool {
	switch errorCode(err) {
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "XAdminUserNotFound":
		return true
	}
	status := httpStatus(err)
	return status == 401 || status == 403
}

func notFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return true
	}
	return false
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// httpStatus is the status of the response err came with, 0 if none.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}
