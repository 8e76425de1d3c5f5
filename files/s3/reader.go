package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sshelf/sshelf/files"
)

// skipLimit: a read this far past the open response's position skips
// bytes on it rather than making a new request.
const skipLimit = 1 << 20

// backLimit is how far behind the response's position ReadAt is served
// from the bytes it last gave: an SFTP server's workers read slightly out
// of order (the read at X+32K often comes before the one at X), and
// without this each late read would cost a new ranged GET.
const backLimit = 1 << 20

// reader reads an object through one open GET at a time, from some offset
// to the end. Reads in order, by Read or by ReadAt at growing offsets (as
// SFTP reads), go on the same response; a read elsewhere opens another.
type reader struct {
	s    *Store
	ctx  context.Context // the requests' context: Open's
	key  string
	name string
	size int64

	mu   sync.Mutex
	pos  int64         // where Read goes on
	body io.ReadCloser // nil if none is open
	at   int64         // the offset of body's next byte
	// recent holds the last bytes body gave, those at [at-len(recent),
	// at); nil until the first ReadAt (a plain Read needs none).
	recent []byte
	gets   int // ranged GETs made after Open's, for tests
	closed bool
}

// Open opens a blob with a GET of it whole; ctx bounds the reader's later
// requests too.
func (s *Store) Open(ctx context.Context, key string) (files.BlobReader, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &name})
	if err != nil {
		return nil, s.fail("open blob "+key, err)
	}
	if out.ContentLength == nil {
		out.Body.Close()
		return nil, fmt.Errorf("open blob %s: %s gave no size", key, s.where)
	}
	r := &reader{s: s, ctx: ctx, key: key, name: name, size: *out.ContentLength, body: out.Body}
	if r.size == 0 {
		r.drop()
	}
	return r, nil
}

func (r *reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.readAt(p, r.pos)
	r.pos += int64(n)
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.recent == nil {
		r.recent = make([]byte, 0, 2*backLimit)
	}
	return r.readAt(p, off)
}

func (r *reader) readAt(p []byte, off int64) (int, error) {
	if r.closed {
		return 0, fmt.Errorf("read blob %s: %w", r.key, os.ErrClosed)
	}
	if off < 0 {
		return 0, fmt.Errorf("read blob %s: negative offset %d", r.key, off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	want := int(min(int64(len(p)), r.size-off))
	n, err := r.fill(p[:want], off)
	if err == nil && want < len(p) {
		err = io.EOF
	}
	return n, err
}

// fill reads len(p) bytes at off, all there are. A response that breaks
// off (a connection closed while idle) is reopened once.
func (r *reader) fill(p []byte, off int64) (int, error) {
	done := r.fromRecent(p, off)
	if done == len(p) {
		return done, nil
	}
	for try := 0; ; try++ {
		if err := r.seek(off + int64(done)); err != nil {
			return done, err
		}
		n, err := io.ReadFull(r.body, p[done:])
		r.remember(p[done : done+n])
		r.at += int64(n)
		done += n
		if err == nil {
			if r.at == r.size {
				r.drop()
			}
			return done, nil
		}
		r.drop()
		if ctxError(err) || r.ctx.Err() != nil {
			return done, fmt.Errorf("read blob %s: %w", r.key, err)
		}
		if try == 1 {
			return done, fmt.Errorf("read blob %s at %d: %w (%s): %w", r.key, off+int64(done), ErrUnreachable, r.s.where, err)
		}
	}
}

// seek makes body's next byte the one at off.
func (r *reader) seek(off int64) error {
	if r.body != nil && off > r.at && off-r.at <= skipLimit {
		var skipped io.Writer = io.Discard
		if r.recent != nil {
			skipped = rememberer{r} // the late read of these comes soon
		}
		n, err := io.CopyN(skipped, r.body, off-r.at)
		r.at += n
		if err != nil {
			r.drop()
		}
	}
	if r.body != nil && r.at == off {
		return nil
	}
	r.drop()
	out, err := r.s.client.GetObject(r.ctx, &s3.GetObjectInput{
		Bucket: &r.s.bucket, Key: &r.name, Range: aws.String("bytes=" + strconv.FormatInt(off, 10) + "-"),
	})
	if err != nil {
		return r.s.fail("read blob "+r.key, err)
	}
	r.body, r.at = out.Body, off
	r.gets++
	if r.recent != nil {
		r.recent = r.recent[:0] // it held the bytes before the old position
	}
	return nil
}

// fromRecent copies into p what recent holds of the bytes at off.
func (r *reader) fromRecent(p []byte, off int64) int {
	start := r.at - int64(len(r.recent))
	if off < start || off >= r.at {
		return 0
	}
	return copy(p, r.recent[off-start:])
}

// remember keeps b, the bytes body just gave, as the newest of recent,
// and at most backLimit of them.
func (r *reader) remember(b []byte) {
	if r.recent == nil {
		return
	}
	if len(b) >= backLimit {
		r.recent = append(r.recent[:0], b[len(b)-backLimit:]...)
		return
	}
	if len(r.recent)+len(b) > cap(r.recent) {
		keep := min(len(r.recent), backLimit-len(b))
		r.recent = r.recent[:copy(r.recent, r.recent[len(r.recent)-keep:])]
	}
	r.recent = append(r.recent, b...)
}

// rememberer is recent as a writer, for the bytes a forward skip passes.
type rememberer struct{ r *reader }

func (w rememberer) Write(b []byte) (int, error) {
	w.r.remember(b)
	return len(b), nil
}

func (r *reader) drop() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

func (r *reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("close blob " + r.key + ": already closed")
	}
	r.closed = true
	r.drop()
	return nil
}
