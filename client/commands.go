package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// File is a file's metadata, as `ls --json` and `info --json` give it.
type File struct {
	Name       string    `json:"name"`
	Size       int64     `json:"size"`
	Owner      string    `json:"owner"`
	Visibility string    `json:"visibility"` // "public" or "hidden"
	Protected  bool      `json:"protected"`
	SHA256     string    `json:"sha256"`
	Uploaded   time.Time `json:"uploaded"`
}

// Hidden reports whether the file is left out of listings.
func (f File) Hidden() bool { return f.Visibility == "hidden" }

// PutOptions are put's flags.
type PutOptions struct {
	Hidden   bool
	Password string // download password; "" leaves the file unprotected
	SHA256   string // expected hex digest: the server refuses other content
}

// List returns the public files, sorted by name.
func (c *Client) List(ctx context.Context) ([]File, error) {
	var out bytes.Buffer
	if _, err := c.do(ctx, request{args: []string{"ls", "--json"}, out: &out}); err != nil {
		return nil, err
	}
	var list []File
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		return nil, fmt.Errorf("sshelf ls: %w: %v", ErrProtocol, err)
	}
	return list, nil
}

// Info returns the metadata of the file named name, hidden or not. The
// SHA256 of a protected file is "" unless the user owns it; Sum with the
// download password gives it.
func (c *Client) Info(ctx context.Context, name string) (File, error) {
	var out bytes.Buffer
	if _, err := c.do(ctx, request{args: []string{"info", "--json", "--", name}, out: &out}); err != nil {
		return File{}, err
	}
	var f File
	if err := json.Unmarshal(out.Bytes(), &f); err != nil {
		return File{}, fmt.Errorf("sshelf info: %w: %v", ErrProtocol, err)
	}
	return f, nil
}

// Sum returns the recorded SHA-256 of the file named name, in hex. A
// protected file of another user needs its download password
// (Config.FilePassword), as Get does.
func (c *Client) Sum(ctx context.Context, name string) (string, error) {
	msg, err := c.do(ctx, request{args: []string{"sum", "--", name}})
	if err != nil {
		return "", err
	}
	return shaOf("sum", msg)
}

// Put uploads exactly size bytes from r as name and returns the SHA-256
// the server recorded, after checking it against the bytes sent. If r ends
// early, nothing is stored and the client becomes unusable (the framing
// cannot be completed).
func (c *Client) Put(ctx context.Context, name string, r io.Reader, size int64, opts PutOptions) (string, error) {
	args := []string{"put"}
	if opts.Hidden {
		args = append(args, "--hidden")
	}
	if opts.Password != "" {
		args = append(args, "--password", opts.Password)
	}
	if opts.SHA256 != "" {
		args = append(args, "--sha256", opts.SHA256)
	}
	args = append(args, "--", name)
	h := sha256.New()
	msg, err := c.do(ctx, request{args: args, content: io.TeeReader(r, h), size: size})
	if err != nil {
		return "", err
	}
	got, err := shaOf("put", msg)
	if err != nil {
		return "", err
	}
	if sent := hex.EncodeToString(h.Sum(nil)); got != sent {
		return "", fmt.Errorf("sshelf put: %s: %w: sent content with sha256 %s, server recorded %s", name, ErrIntegrity, sent, got)
	}
	return got, nil
}

// Get downloads the file named name into w. password is its download
// password, "" for none (or to use Config.FilePassword). The bytes written
// to w are checked against the server's end line and against `info`; on a
// mismatch Get returns an ErrIntegrity error and w holds bad data.
func (c *Client) Get(ctx context.Context, name string, w io.Writer, password string) error {
	before, err := c.Info(ctx, name)
	if err != nil {
		return err
	}
	args := []string{"get"}
	if password != "" {
		args = append(args, "--password", password)
	}
	args = append(args, "--", name)
	h := sha256.New()
	n := &countingWriter{}
	msg, err := c.do(ctx, request{args: args, out: io.MultiWriter(w, h, n)})
	if err != nil {
		return err
	}
	served, err := shaOf("get", msg)
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != served {
		return fmt.Errorf("sshelf get: %s: %w: received %d bytes with sha256 %s, server says %s", name, ErrIntegrity, n.n, got, served)
	}
	if served == before.SHA256 || before.SHA256 == "" {
		// "": info withholds the hash of another's protected file (the
		// server's rule 3); the end line's, checked above, is all there is.
		return nil
	}
	// The owner may have replaced the file between info and get: then a
	// second info shows the version served.
	after, err := c.Info(ctx, name)
	if err != nil {
		return err
	}
	if served != after.SHA256 {
		return fmt.Errorf("sshelf get: %s: %w: served sha256 %s, info says %s", name, ErrIntegrity, served, after.SHA256)
	}
	return nil
}

// Remove deletes the file named name (owner only).
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.simple(ctx, "rm", "--", name)
}

// Hide leaves the file out of listings (owner only).
func (c *Client) Hide(ctx context.Context, name string) error {
	return c.simple(ctx, "hide", "--", name)
}

// Unhide lists the file again (owner only).
func (c *Client) Unhide(ctx context.Context, name string) error {
	return c.simple(ctx, "unhide", "--", name)
}

// Protect sets the file's download password; oldPassword is the current
// one if it is protected already (owner only).
func (c *Client) Protect(ctx context.Context, name, newPassword, oldPassword string) error {
	args := []string{"protect", "--password", newPassword}
	if oldPassword != "" {
		args = append(args, "--old-password", oldPassword)
	}
	return c.simple(ctx, append(args, "--", name)...)
}

// Unprotect removes the file's download password, given the current one.
func (c *Client) Unprotect(ctx context.Context, name, password string) error {
	return c.simple(ctx, "unprotect", "--password", password, "--", name)
}

// Whoami returns the account the session is logged in as.
func (c *Client) Whoami(ctx context.Context) (string, error) {
	var out bytes.Buffer
	if _, err := c.do(ctx, request{args: []string{"whoami"}, out: &out}); err != nil {
		return "", err
	}
	return strings.TrimSuffix(out.String(), "\n"), nil
}

// Passwd changes the account's password.
func (c *Client) Passwd(ctx context.Context, oldPassword, newPassword string) error {
	if strings.ContainsAny(oldPassword+newPassword, "\r\n") {
		return fmt.Errorf("sshelf passwd: a password contains a line break")
	}
	content := oldPassword + "\n" + newPassword + "\n"
	_, err := c.do(ctx, request{args: []string{"passwd"}, content: strings.NewReader(content), size: int64(len(content))})
	return err
}

func (c *Client) simple(ctx context.Context, args ...string) error {
	_, err := c.do(ctx, request{args: args})
	return err
}

// shaOf takes the digest out of an end line's "sha256 HEX".
func shaOf(command, msg string) (string, error) {
	hexSum, ok := strings.CutPrefix(msg, "sha256 ")
	if !ok || len(hexSum) != 64 || strings.Trim(hexSum, "0123456789abcdef") != "" {
		return "", fmt.Errorf("sshelf %s: %w: end line %q has no sha256", command, ErrProtocol, msg)
	}
	return hexSum, nil
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
