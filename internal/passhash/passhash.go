// Package passhash hashes and checks secrets (account and download passwords)
// with Argon2id, bounding how many hashes run at once so a flood of logins
// cannot exhaust memory or starve the server, and queueing the rest fairly
// across client addresses so a flood from some cannot starve the others.
package passhash

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id parameters. The defaults follow OWASP's minimum
// recommendation (19 MiB, 2 passes, 1 lane).
type Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
	KeyLen  uint32
	SaltLen int
}

// DefaultParams is used unless a Hasher is given others.
var DefaultParams = Params{Time: 2, Memory: 19 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}

// ErrMalformed means a stored hash could not be parsed.
var ErrMalformed = errors.New("malformed password hash")

// Hasher hashes and verifies passwords with at most a fixed number running
// at once; the rest wait in a queue that is fair across client addresses
// (the clientaddr of the context passed in), or give up when their context
// ends. An address with too many waiting already gets ErrBusy at once.
type Hasher struct {
	params Params
	queue  *fairQueue

	dummy string // what Dummy verifies against
}

// Option changes a Hasher's queueing.
type Option func(*options)

type options struct {
	perAddr int
	onWait  func(time.Duration)
}

// QueuePerAddress bounds how many checks one address may have waiting
// (default DefaultQueuePerAddress; <= 0: no bound).
func QueuePerAddress(n int) Option { return func(o *options) { o.perAddr = n } }

// OnWait is called after each check gets its slot, with how long it waited
// (zero when a slot was free): a hook for a queue-wait metric. It must be
// quick; it runs on the caller's goroutine.
func OnWait(f func(time.Duration)) Option { return func(o *options) { o.onWait = f } }

// New returns a Hasher that runs at most concurrency hashes at once;
// concurrency <= 0 means one per CPU.
func New(p Params, concurrency int, opts ...Option) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	o := options{perAddr: DefaultQueuePerAddress}
	for _, opt := range opts {
		opt(&o)
	}
	// The dummy is an encoding with our parameters and a random key: no
	// password hashes to it, and checking one against it costs what a real
	// check costs, with no hash to make first.
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	rand.Read(salt)
	rand.Read(key)
	return &Hasher{params: p, queue: newFairQueue(concurrency, o.perAddr, o.onWait), dummy: encode(p, salt, key)}
}

func (h *Hasher) acquire(ctx context.Context) error { return h.queue.acquire(ctx) }

func (h *Hasher) release() { h.queue.release() }

// Hash returns an encoded Argon2id hash of password with a fresh salt, in
// the PHC string format ($argon2id$v=19$m=..,t=..,p=..$salt$hash).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encode(p, salt, key), nil
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches encoded. It takes the same time
// whether or not it matches.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Dummy spends the cost of one Verify and always fails; used for unknown
// accounts so that they answer like known ones.
func (h *Hasher) Dummy(ctx context.Context, password string) {
	_, _ = h.Verify(ctx, password, h.dummy)
}

func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, ErrMalformed
	}
	// Refuse parameters no hash of ours would have: a tampered row must not
	// make us allocate gigabytes.
	if p.Memory == 0 || p.Memory > 256<<10 || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return Params{}, nil, nil, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, ErrMalformed
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) == 0 || len(key) > 64 {
		return Params{}, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}
