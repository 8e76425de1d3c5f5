// Package s3store is the shared files.Blobs store: contents as objects in
// an S3-compatible bucket, which any number of sshelf servers write to.
package s3store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sshelf/sshelf/files"
)

// Timeouts that keep a dead or silent store from holding a caller for
// long: a request is tried maxAttempts times, a connection must be made
// within dialTimeout, and a connection that delivers nothing for
// readTimeout is given up (a multipart completion of a large blob may keep
// the store quiet for a while, hence the margin). Ping, which Open and
// /readyz use, waits pingTimeout at most.
const (
	maxAttempts = 3
	maxBackoff  = time.Second
	dialTimeout = 5 * time.Second
	readTimeout = time.Minute
	pingTimeout = 15 * time.Second
)

// Store keeps blobs as objects named [PREFIX/]INSTANCE/RANDOM in a bucket.
type Store struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ending in "/"
	instance string
	where    string // the bucket and endpoint, for messages
	partSize int64
	inFlight int
}

var (
	_ files.Blobs       = (*Store)(nil)
	_ files.Streamer    = (*Store)(nil)
	_ files.SharedStore = (*Store)(nil)
)

// Open connects to the bucket cfg names and checks that it is there and
// the credentials may use it.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{
		client:   s3.New(clientOptions(cfg)),
		bucket:   cfg.Bucket,
		instance: cfg.Instance,
		partSize: cfg.PartSize,
		inFlight: cfg.PartsInFlight,
	}
	if cfg.Prefix != "" {
		s.prefix = cfg.Prefix + "/"
	}
	s.where = fmt.Sprintf("s3 bucket %q at %s", cfg.Bucket, cfg.Endpoint)
	if cfg.Endpoint == "" {
		s.where = fmt.Sprintf("s3 bucket %q in AWS region %s", cfg.Bucket, cfg.Region)
	}
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// clientOptions builds the S3 client's options from cfg alone: no shared
// AWS config files, no instance metadata. Path-style addressing and
// checksums only where an operation requires them are what S3-compatible
// stores accept.
func clientOptions(cfg Config) s3.Options {
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = 4 * maxPartsInFlight
		}).
		WithReadTimeout(readTimeout)
	o := s3.Options{
		Region:                     cfg.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 httpClient,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = maxBackoff
			// No client-side retry quota: an outage would otherwise turn
			// into "retry quota exceeded", hiding the cause.
			o.RateLimiter = ratelimit.None
		}),
	}
	if cfg.Endpoint != "" {
		o.BaseEndpoint = aws.String(strings.TrimRight(cfg.Endpoint, "/"))
	}
	return o
}

// errNoAnswer ends a Ping that waited too long for the store.
var errNoAnswer = fmt.Errorf("%w: no answer within %v", ErrUnreachable, pingTimeout)

// Ping checks that the bucket is reachable and usable, for /readyz. It
// waits pingTimeout at most: a store that takes longer is not ready.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeoutCause(ctx, pingTimeout, errNoAnswer)
	defer cancel()
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket})
	if err != nil && httpStatus(err) == http.StatusNotFound {
		// A HEAD answer has no body to say why; some stores (versitygw)
		// answer an unknown access key with 404 too. A listing says.
		_, err = s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, MaxKeys: aws.Int32(1)})
	}
	if err != nil && context.Cause(ctx) == errNoAnswer {
		return fmt.Errorf("%s: %w", s.where, errNoAnswer)
	}
	if err != nil {
		return s.bucketError(err)
	}
	return nil
}

// newKey returns a fresh key of this instance's.
func (s *Store) newKey() (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("new blob key: %w", err)
	}
	return s.instance + "/" + hex.EncodeToString(raw[:]), nil
}

// Instance returns the id of the server instance that stored key.
func (s *Store) Instance(key string) string {
	if !validKey(key) {
		return ""
	}
	inst, _, _ := strings.Cut(key, "/")
	return inst
}

// validKey reports whether key has the form newKey gives keys, so that
// objects of others in the bucket are left alone.
func validKey(key string) bool {
	inst, rnd, ok := strings.Cut(key, "/")
	return ok && validInstance(inst) && len(rnd) == 32 && strings.Trim(rnd, "0123456789abcdef") == ""
}

// object is the object name of key, or an error for a key not of ours.
func (s *Store) object(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("blob key %q: malformed", key)
	}
	return s.prefix + key, nil
}
