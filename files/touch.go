package files

import "context"

// Touch accepts a change of a file's times. sshelf keeps only the upload
// time, so nothing changes; but setting times is a change, so only the owner
// may (rule 4). SFTP clients set times after an upload (rclone by path, lftp
// on the open handle) and fail the upload if that is refused.
func (s *Service) Touch(ctx context.Context, user, name string) error {
	_, err := s.lookupOwned(ctx, user, name)
	return err
}

// Resize is a request to change a stored file's size (SFTP's setstat).
// Files are replaced whole, never changed in place, so only the size the
// file has is accepted: a change that changes nothing, the owner's only, as
// Touch.
func (s *Service) Resize(ctx context.Context, user, name string, size int64) error {
	r, err := s.lookupOwned(ctx, user, name)
	if err != nil {
		return err
	}
	if r.Size != size {
		return ErrInPlace
	}
	return nil
}

// lookupOwned returns the record named name if user owns it (rule 4).
func (s *Service) lookupOwned(ctx context.Context, user, name string) (Record, error) {
	if err := ValidateName(name); err != nil {
		return Record{}, err
	}
	r, err := s.catalog.Lookup(ctx, name)
	if err != nil {
		return Record{}, err
	}
	return r, ownedBy(r, user)
}
