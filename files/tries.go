package files

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/sshelf/sshelf/internal/clientaddr"
	"github.com/sshelf/sshelf/internal/throttle"
)

// passwordHasher is the slow hash of download passwords
// (internal/passhash), an interface so that tests can count the checks.
type passwordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, encoded string) (bool, error)
}

// tryKeys are the throttle keys a download-password try of user on r
// counts on: the account and file first (a success forgets it), then, for
// anyone but the file's owner, the file across accounts and the client's
// address (when the transport gave one). The owner counts only on her own
// account and file, so others' guesses, on her file or from her address,
// never lock her out of her own file; nobody else can try as the owner.
func tryKeys(ctx context.Context, user string, r Record) []string {
	keys := []string{"dl-user-file/" + user + "/" + r.Name}
	if user == r.Owner {
		return keys
	}
	keys = append(keys, "dl-file/"+r.Name)
	if host := clientaddr.From(ctx); host != "" {
		keys = append(keys, "dl-addr/"+host)
	}
	return keys
}

// throttled maps a refused try to ErrThrottled; other errors pass.
func throttled(err error) error {
	var r *throttle.Refused
	if errors.As(err, &r) {
		return ErrThrottled
	}
	return err
}

// Unlock clears the download-password tries of target: an account's, or an
// address's (both, if it could be either). It returns what it cleared.
func (s *Service) Unlock(ctx context.Context, target string) ([]string, error) {
	var done []string
	if host := strings.Trim(target, "[]"); net.ParseIP(host) != nil {
		n, err := s.tries.Clear(ctx, []string{"dl-addr/" + host}, nil)
		if err != nil {
			return nil, fmt.Errorf("unlock %s: %w", target, err)
		}
		if n > 0 {
			done = append(done, "download passwords from "+host)
		}
	}
	if !strings.Contains(target, "/") && target != "" {
		n, err := s.tries.Clear(ctx, nil, []string{"dl-user-file/" + target + "/"})
		if err != nil {
			return nil, fmt.Errorf("unlock %s: %w", target, err)
		}
		if n > 0 {
			done = append(done, fmt.Sprintf("download passwords of %s (%d files)", target, n))
		}
	}
	return done, nil
}
