package s3store

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/sshelf/sshelf/files"
)

// partsPerStep: a stream's parts grow by PartSize every this many parts,
// so that 10000 parts hold 30000 × PartSize (480 GiB at 16 MiB) while a
// usual upload uses small ones.
const partsPerStep = 2000

// stream is a blob sent as its content arrives: whole parts as Ready
// allows, the rest at Finish. The multipart upload starts with the first
// whole part, so a blob that stays small is a single PutObject.
type stream struct {
	s   *Store
	src io.ReaderAt
	m   *multipart

	calls   sync.Mutex // Ready, Finish and Abort one at a time
	next    int64      // src's first byte not sent
	num     int32      // parts sent
	end     int64      // the last end Ready was given
	stopped bool       // Finish or Abort ran
}

// Begin starts a blob whose content src holds.
func (s *Store) Begin(ctx context.Context, src io.ReaderAt) (files.BlobStream, error) {
	key, err := s.newKey()
	if err != nil {
		return nil, err
	}
	return &stream{s: s, src: src, m: s.newMultipart(ctx, key)}, nil
}

// partSize is the size of part num (from 1) unless it is the last.
func (st *stream) partSize(num int32) int64 {
	return st.s.partSize * int64(1+(num-1)/partsPerStep)
}

// Ready sends the whole parts below end, blocking while PartsInFlight are
// on their way.
func (st *stream) Ready(end int64) error {
	st.calls.Lock()
	defer st.calls.Unlock()
	if st.stopped {
		return errStopped
	}
	if end < st.end {
		return fmt.Errorf("blob %s: ready end went back from %d to %d", st.m.key, st.end, end)
	}
	st.end = end
	for st.next+st.partSize(st.num+1) <= end {
		if err := st.sendPart(st.partSize(st.num + 1)); err != nil {
			return err
		}
	}
	return st.m.failure()
}

// sendPart sends src's next n bytes as the next part.
func (st *stream) sendPart(n int64) error {
	if st.num == maxParts {
		return fmt.Errorf("blob %s: more than %d parts", st.m.key, maxParts)
	}
	if err := st.m.create(); err != nil {
		st.m.setErr(err)
		return err
	}
	if err := st.m.acquire(); err != nil {
		return err
	}
	st.num++
	st.m.send(st.num, io.NewSectionReader(st.src, st.next, n), n, func() {})
	st.next += n
	return nil
}

// Finish sends the rest up to size and makes the blob.
func (st *stream) Finish(ctx context.Context, size int64) (string, error) {
	st.calls.Lock()
	defer st.calls.Unlock()
	if st.stopped {
		return "", errStopped
	}
	st.stopped = true
	key, err := st.finish(ctx, size)
	if err != nil {
		if aerr := st.m.abort(ctx); aerr != nil {
			err = fmt.Errorf("%w (and %w)", err, aerr)
		}
		return "", err
	}
	return key, nil
}

func (st *stream) finish(ctx context.Context, size int64) (string, error) {
	stop := context.AfterFunc(ctx, st.m.cancel)
	defer stop()
	m := st.m
	if size < st.end {
		return "", fmt.Errorf("finish blob %s: size %d below the %d bytes given as ready", m.key, size, st.end)
	}
	if m.id == "" && size <= st.partSize(1) {
		defer m.cancel()
		return m.key, st.s.putObject(m.ctx, m.key, io.NewSectionReader(st.src, 0, size), size)
	}
	for st.next < size {
		if err := st.sendPart(min(st.partSize(st.num+1), size-st.next)); err != nil {
			return "", err
		}
	}
	if err := m.complete(); err != nil {
		return "", err
	}
	return m.key, nil
}

// Abort discards what was sent; it stops a Ready waiting for a slot.
func (st *stream) Abort(ctx context.Context) error {
	st.m.cancel()
	st.calls.Lock()
	defer st.calls.Unlock()
	if st.stopped {
		return nil
	}
	st.stopped = true
	return st.m.abort(ctx)
}
