package files

import "context"

// Touch accepts a change of a file's times. sshelf keeps only the upload
// time, so nothing changes; but setting times is a change, so only the owner
// may (rule 4). SFTP clients set times after an upload (rclone by path, lftp
// on the open handle) and fail the upload if that is refused.
func (s *Service) Touch(ctx context.Context, user, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	r, err := s.catalog.Lookup(ctx, name)
	if err != nil {
		return err
	}
	return ownedBy(r, user)
}
