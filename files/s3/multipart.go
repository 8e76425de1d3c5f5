package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// maxParts is S3's limit on the parts of one upload.
const maxParts = 10000

// cleanupTimeout bounds an abort that runs after its caller gave up.
const cleanupTimeout = 30 * time.Second

// multipart is one S3 multipart upload whose parts go out in goroutines,
// at most cap(slots) at once. The first part to fail cancels the others
// and is the upload's error.
type multipart struct {
	s      *Store
	key    string
	name   string // the object's name
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
	wg     sync.WaitGroup

	id string // the upload id, "" until created

	mu    sync.Mutex
	err   error
	parts []types.CompletedPart
}

func (s *Store) newMultipart(ctx context.Context, key string) *multipart {
	ctx, cancel := context.WithCancel(ctx)
	return &multipart{
		s: s, key: key, name: s.prefix + key,
		ctx: ctx, cancel: cancel,
		slots: make(chan struct{}, s.inFlight),
	}
}

// create starts the upload on the store, once.
func (m *multipart) create() error {
	if m.id != "" {
		return nil
	}
	out, err := m.s.client.CreateMultipartUpload(m.ctx, &s3.CreateMultipartUploadInput{Bucket: &m.s.bucket, Key: &m.name})
	if err != nil {
		return m.s.fail("begin blob "+m.key, err)
	}
	m.id = aws.ToString(out.UploadId)
	return nil
}

// acquire waits for a free slot; it fails once the upload has.
func (m *multipart) acquire() error {
	select {
	case m.slots <- struct{}{}:
	case <-m.ctx.Done():
		return m.failure()
	}
	if err := m.failure(); err != nil {
		<-m.slots
		return err
	}
	return nil
}

// send uploads part num (n bytes of body) in a goroutine that holds the
// slot acquire took; done runs when the body is no longer read.
func (m *multipart) send(num int32, body io.ReadSeeker, n int64, done func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer func() { <-m.slots }()
		defer done()
		out, err := m.s.client.UploadPart(m.ctx, &s3.UploadPartInput{
			Bucket: &m.s.bucket, Key: &m.name, UploadId: &m.id,
			PartNumber: aws.Int32(num), Body: body, ContentLength: aws.Int64(n),
		})
		if err != nil {
			m.setErr(m.s.fail(fmt.Sprintf("send part %d of blob %s", num, m.key), err))
			return
		}
		m.mu.Lock()
		m.parts = append(m.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		m.mu.Unlock()
	}()
}

// setErr records the upload's first failure and stops the other parts.
func (m *multipart) setErr(err error) {
	m.mu.Lock()
	if m.err == nil {
		m.err = err
	}
	m.mu.Unlock()
	m.cancel()
}

// failure is the upload's first failure, or why its context ended.
func (m *multipart) failure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if err := m.ctx.Err(); err != nil {
		return fmt.Errorf("blob %s: upload stopped: %w", m.key, context.Cause(m.ctx))
	}
	return nil
}

// complete waits for every part and makes the object.
func (m *multipart) complete() error {
	m.wg.Wait()
	if err := m.failure(); err != nil {
		return err
	}
	parts := slices.Clone(m.parts)
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err := m.s.client.CompleteMultipartUpload(m.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &m.s.bucket, Key: &m.name, UploadId: &m.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return m.s.fail("complete blob "+m.key, err)
	}
	m.cancel()
	return nil
}

// abort stops the parts, waits for them and discards the upload. It runs
// even when ctx is done already (a client gone), so that no upload is left
// for the sweep of unfinished ones.
func (m *multipart) abort(ctx context.Context) error {
	m.cancel()
	m.wg.Wait()
	if m.id == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := m.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &m.s.bucket, Key: &m.name, UploadId: &m.id})
	if err != nil && !notFound(err) {
		return m.s.fail("abort blob "+m.key, err)
	}
	return nil
}

// errStopped is a stream used after Finish or Abort.
var errStopped = errors.New("blob stream already finished or aborted")
