package files

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// A durable upload must be on disk before it is answered. Flushing a large
// file only at the end costs seconds on a real disk (1.7 s per GiB was
// measured), while the network sat idle. So as an upload grows, the kernel
// is asked to start writing back each writeBehindChunk behind the front
// (sync_file_range), and to finish the chunk writeBehindLag behind, so
// dirty memory stays bounded. The final fdatasync then has little left to
// do; the guarantee is the same.
//
// That work runs on a goroutine of the upload's own: handing pages to the
// disk costs the caller the file system's block allocation, and waiting on
// them, the disk's pauses, none of which the transfer needs to wait for.
// The writer waits only when the goroutine is writeBehindQueue chunks
// behind.
const writeBehindChunk = 8 << 20

// writeBehindLag is how many chunks behind the front write-back must be
// finished: enough that a disk's pauses do not stall a transfer at once,
// few enough that dirty memory per upload stays bounded
// (writeBehindQueue+writeBehindLag+1 chunks).
const writeBehindLag = 4

// writeBehindQueue is how many whole chunks may wait for the goroutine.
const writeBehindQueue = 2

// Handing pages to the disk is not the end of it: a virtual or caching
// disk holds them in its own cache until the file is synced, and the final
// fdatasync of a 1 GiB upload still took over a second (measured), the
// disk emptying its cache while the client waited. So every syncAheadEvery
// bytes, the goroutine also runs an fdatasync: the final one then covers
// the last stretch only. It promises nothing by itself; the final sync is
// still what makes an upload durable.
const syncAheadEvery = 64 << 20

// writeBehind follows the front of a spool file.
type writeBehind struct {
	next int64 // start of the first chunk not yet handed on
	off  bool  // never start write-back (a store that does not keep the file)
	// work takes the start of each whole chunk to the goroutine; nil until
	// the first. done is closed when the goroutine ends, stop tells it to
	// skip what is left.
	work chan int64
	done chan struct{}
	stop atomic.Bool
	// syncs counts the goroutine's fdatasyncs (tests).
	syncs atomic.Int64
}

// wrote hands every whole chunk below end to the goroutine, after bytes
// [start, end) were written. It follows a stream: a write far past the
// front (SFTP may write anywhere) moves the front there, so the work per
// call stays in proportion to the bytes written.
func (wb *writeBehind) wrote(f *os.File, start, end int64) {
	if wb.off || end <= start || end <= wb.next {
		return
	}
	if start > wb.next+writeBehindLag*writeBehindChunk {
		wb.next = start - start%writeBehindChunk
	}
	for end-wb.next >= writeBehindChunk {
		if wb.work == nil {
			wb.start(f)
		}
		wb.work <- wb.next
		wb.next += writeBehindChunk
	}
}

func (wb *writeBehind) start(f *os.File) {
	wb.work = make(chan int64, writeBehindQueue)
	wb.done = make(chan struct{})
	go wb.run(f)
}

// run writes back the chunks it is given, through the file's raw
// connection, so a Close meanwhile cannot hand its descriptor to another
// file.
func (wb *writeBehind) run(f *os.File) {
	defer close(wb.done)
	rc, err := f.SyscallConn()
	unsupported := err != nil
	var handed int64
	for off := range wb.work {
		if unsupported || wb.stop.Load() {
			continue
		}
		rc.Control(func(fd uintptr) {
			if err := unix.SyncFileRange(int(fd), off, writeBehindChunk, unix.SYNC_FILE_RANGE_WRITE); err != nil {
				unsupported = true // e.g. a file system without it: the final sync does it all
				return
			}
			if prev := off - writeBehindLag*writeBehindChunk; prev >= 0 {
				_ = unix.SyncFileRange(int(fd), prev, writeBehindChunk,
					unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
			}
			if handed += writeBehindChunk; handed >= syncAheadEvery {
				handed = 0
				_ = unix.Fdatasync(int(fd))
				wb.syncs.Add(1)
			}
		})
	}
}

// wait stops the goroutine and returns once it ended: before the final
// sync, which covers what it skipped, and before the file is closed.
func (wb *writeBehind) wait() {
	if wb.work == nil {
		return
	}
	wb.stop.Store(true)
	close(wb.work)
	<-wb.done
	wb.work = nil
}

// syncData makes a spool file's content durable: fdatasync, which skips
// only metadata a read does not need (times), never the size.
func syncData(f *os.File) error {
	return unix.Fdatasync(int(f.Fd()))
}
