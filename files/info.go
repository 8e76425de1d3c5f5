package files

import "context"

// Info returns the file named name, whatever its visibility (rule 2). The
// SHA-256 of a protected file is withheld (left "") unless user owns it
// (rule 3): a short content could be recovered from its hash offline,
// with no password try counted.
func (s *Service) Info(ctx context.Context, user, name string) (File, error) {
	return s.InfoWithPassword(ctx, user, name, "")
}

// InfoWithPassword is Info given a download password. For a protected file
// of another user, a non-empty password is checked as a download's is
// (rules 3 and 8: a wrong one is a counted try and an error), and the right
// one shows the SHA-256. An empty password only withholds it.
func (s *Service) InfoWithPassword(ctx context.Context, user, name, password string) (File, error) {
	r, err := s.lookupValid(ctx, name)
	if err != nil {
		return File{}, err
	}
	if hashShown(r.File, user) {
		return r.File, nil
	}
	if password == "" {
		r.SHA256 = ""
		return r.File, nil
	}
	if err := s.checkPassword(ctx, user, r, password); err != nil {
		return File{}, err
	}
	return r.File, nil
}

// Sum returns the file named name with its SHA-256. For a protected file
// of another user it needs the download password, as a download does:
// without it the answer is ErrPasswordRequired, not a file without hash.
func (s *Service) Sum(ctx context.Context, user, name, password string) (File, error) {
	r, err := s.lookupValid(ctx, name)
	if err != nil {
		return File{}, err
	}
	if !hashShown(r.File, user) {
		if err := s.checkPassword(ctx, user, r, password); err != nil {
			return File{}, err
		}
	}
	return r.File, nil
}

func (s *Service) lookupValid(ctx context.Context, name string) (Record, error) {
	if err := ValidateName(name); err != nil {
		return Record{}, err
	}
	return s.catalog.Lookup(ctx, name)
}

// hashShown reports whether user may see f's SHA-256 without giving its
// password: f is unprotected, or user owns it.
func hashShown(f File, user string) bool {
	return !f.Protected || f.Owner == user
}

// withholdHashes clears the SHA-256 of every file in fs that user may not
// see without its password (rule 3); listings never check passwords.
func withholdHashes(fs []File, user string) []File {
	for i := range fs {
		if !hashShown(fs[i], user) {
			fs[i].SHA256 = ""
		}
	}
	return fs
}
