package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Put stores size bytes of r under a new key. A reader that can also seek
// and read at offsets (the Service's spool file) is sent part by part
// straight from it; any other is read into at most PartsInFlight part
// buffers.
func (s *Store) Put(ctx context.Context, r io.Reader, size int64) (string, error) {
	if size < 0 {
		return "", fmt.Errorf("put blob: negative size %d", size)
	}
	if ra, ok := r.(io.ReaderAt); ok {
		if sk, ok := r.(io.Seeker); ok {
			return s.putAt(ctx, ra, sk, size)
		}
	}
	if size <= s.partSize {
		return s.putSmall(ctx, r, size)
	}
	return s.putParts(ctx, r, size)
}

// putAt sends the bytes from sk's position to its end, which must be size.
func (s *Store) putAt(ctx context.Context, ra io.ReaderAt, sk io.Seeker, size int64) (string, error) {
	start, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	if _, err := sk.Seek(start, io.SeekStart); err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	if end-start != size {
		return "", fmt.Errorf("put blob: stream of %d bytes, want %d", end-start, size)
	}
	st, err := s.Begin(ctx, io.NewSectionReader(ra, start, size))
	if err != nil {
		return "", err
	}
	key, err := st.Finish(ctx, size)
	if err != nil {
		return "", err
	}
	_, err = sk.Seek(end, io.SeekStart)
	return key, err
}

// putSmall sends a blob of at most one part in one request.
func (s *Store) putSmall(ctx context.Context, r io.Reader, size int64) (string, error) {
	buf := make([]byte, size)
	if err := readExactly(r, buf, true); err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	key, err := s.newKey()
	if err != nil {
		return "", err
	}
	return key, s.putObject(ctx, key, bytes.NewReader(buf), size)
}

func (s *Store) putObject(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	name := s.prefix + key
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &name, Body: body, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return s.fail("put blob "+key, err)
	}
	return nil
}

// putParts sends a blob of several parts read in order from r, one buffer
// per part in flight.
func (s *Store) putParts(ctx context.Context, r io.Reader, size int64) (string, error) {
	key, err := s.newKey()
	if err != nil {
		return "", err
	}
	m := s.newMultipart(ctx, key)
	partSize := max(s.partSize, (size+maxParts-1)/maxParts)
	free := make(chan []byte, s.inFlight)
	send := func() error {
		if err := m.create(); err != nil {
			return err
		}
		for num, off := int32(1), int64(0); off < size; num++ {
			if err := m.acquire(); err != nil {
				return err
			}
			var buf []byte
			select {
			case buf = <-free:
			default:
				buf = make([]byte, partSize)
			}
			n := min(partSize, size-off)
			last := off+n == size
			if err := readExactly(r, buf[:n], last); err != nil {
				<-m.slots
				return fmt.Errorf("put blob %s: %w", key, err)
			}
			m.send(num, bytes.NewReader(buf[:n]), n, func() { free <- buf })
			off += n
		}
		return m.complete()
	}
	if err := send(); err != nil {
		if aerr := m.abort(ctx); aerr != nil {
			err = fmt.Errorf("%w (and %w)", err, aerr)
		}
		return "", err
	}
	return key, nil
}

// readExactly fills buf from r; at the end of the stream (last) r must
// have nothing more.
func readExactly(r io.Reader, buf []byte, last bool) error {
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("stream ended %d bytes short", len(buf)-n)
	}
	if err != nil {
		return err
	}
	if !last {
		return nil
	}
	var one [1]byte
	for range 100 { // a reader may return 0, nil a few times
		n, err := r.Read(one[:])
		if n > 0 {
			return errors.New("stream longer than its size")
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return errors.New("stream does not end at its size")
}
