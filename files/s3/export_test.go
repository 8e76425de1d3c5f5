package s3store

import "github.com/sshelf/sshelf/files"

// ReaderGets returns how many ranged GETs r made after Open's.
func ReaderGets(r files.BlobReader) int {
	rd := r.(*reader)
	rd.mu.Lock()
	defer rd.mu.Unlock()
	return rd.gets
}
