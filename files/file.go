package files

import "time"

// File is what a user may see of a catalog entry.
type File struct {
	Name      string
	Size      int64
	Owner     string
	Hidden    bool
	Protected bool
	// SHA256 is lower-case hex, or "" where it is withheld: a protected
	// file of another user, without its password (rule 3).
	SHA256   string
	Uploaded time.Time
}

// Visibility returns "public" or "hidden", as the contract names them.
func (f File) Visibility() string {
	if f.Hidden {
		return "hidden"
	}
	return "public"
}

// Record is a catalog entry as stored: the File and what only the server
// sees.
type Record struct {
	File
	PasswordHash string // Argon2id of the download password; "" when unprotected
	Blob         string // key of the content in the Blobs store
}
