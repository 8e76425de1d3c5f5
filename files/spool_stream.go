package files

import (
	"context"
	"fmt"
)

// streamFrom is how much of an upload must have arrived in order before
// the spool starts streaming it to a Streamer store: a smaller file goes
// up in one request at Commit, which costs a store fewer requests than a
// multipart upload.
const streamFrom = 8 << 20

// stream is an upload's content on its way to a Streamer store while it
// still arrives. Bytes below ready have been handed over; the spool
// guarantees they do not change, or aborts the stream first (the content
// then goes up whole at Commit).
type stream struct {
	to     Streamer
	ctx    context.Context
	s      BlobStream // nil until begun
	ready  int64
	failed bool // given up: Commit Puts the content
}

// offer hands the store the bytes [0, end) of the spool file, which are
// final (the upload's in-order prefix, written out of the gathering
// buffer), starting the stream once enough has arrived.
func (w *spoolFile) offer(end int64) {
	st := w.stream
	if st == nil || st.failed {
		return
	}
	end = min(end, w.fileEnd)
	if w.buf != nil { // gathered bytes are not in the file yet
		end = min(end, w.bufOff)
	}
	if end <= st.ready {
		return
	}
	if st.s == nil {
		if end < streamFrom {
			return
		}
		s, err := st.to.Begin(st.ctx, w.f)
		if err != nil {
			st.failed = true
			return
		}
		st.s = s
	}
	if err := st.s.Ready(end); err != nil {
		w.stopStream()
		return
	}
	st.ready = end
}

// changing is called before bytes from off on change (a write, a
// truncation): if the store already has some of them, the stream is
// abandoned.
func (w *spoolFile) changing(off int64) {
	if st := w.stream; st != nil && st.s != nil && off < st.ready {
		w.stopStream()
	}
}

// stopStream aborts the stream, for good: Commit Puts the content.
func (w *spoolFile) stopStream() {
	st := w.stream
	if st == nil || st.failed {
		return
	}
	st.failed = true
	if st.s != nil {
		st.s.Abort(context.WithoutCancel(st.ctx))
		st.s = nil
	}
}

// finishStream completes the stream with the content's size bytes, if one
// runs; ok false means there is none and the content must be Put.
func (w *spoolFile) finishStream(ctx context.Context, size int64) (key string, ok bool, err error) {
	st := w.stream
	if st == nil || st.failed || st.s == nil {
		return "", false, nil
	}
	key, err = st.s.Finish(ctx, size)
	st.s = nil
	st.failed = true
	if err != nil {
		return "", true, fmt.Errorf("commit upload: %w", err)
	}
	return key, true, nil
}
