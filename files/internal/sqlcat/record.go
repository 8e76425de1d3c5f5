package sqlcat

import (
	"errors"
	"time"

	"github.com/sshelf/sshelf/files"
)

// RecordColumns are a record's columns, in the order ScanRecord reads.
const RecordColumns = `name, owner, size, hidden, password_hash, sha256, uploaded, blob`

// Scanner is a row of either driver.
type Scanner interface{ Scan(...any) error }

// ScanRecord reads a record from row; noRows is the driver's "no row"
// error, which becomes files.ErrNotFound. Times are Unix nanoseconds.
func ScanRecord(row Scanner, noRows error) (files.Record, error) {
	var r files.Record
	var uploaded int64
	err := row.Scan(&r.Name, &r.Owner, &r.Size, &r.Hidden, &r.PasswordHash, &r.SHA256, &uploaded, &r.Blob)
	if errors.Is(err, noRows) {
		return files.Record{}, files.ErrNotFound
	}
	if err != nil {
		return files.Record{}, err
	}
	r.Protected = r.PasswordHash != ""
	r.Uploaded = time.Unix(0, uploaded).UTC()
	return r, nil
}
