package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sshelf/sshelf/client"
)

// options are the mirror's choices.
type options struct {
	Hidden   bool // upload as hidden files
	Download bool // verify by downloading every file, not only by its sum
}

// mirror uploads every regular file at the top of dir whose content the
// server does not already hold under its name, then verifies every file's
// hash on the server. It reports per file on out and returns how many
// files failed.
func mirror(ctx context.Context, c *client.Client, dir string, opt options, out io.Writer) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", dir, err)
	}
	me, err := c.Whoami(ctx)
	if err != nil {
		return 0, err
	}
	local := map[string]string{} // name -> sha256
	var names []string
	failed := 0
	for _, e := range entries {
		if !e.Type().IsRegular() {
			fmt.Fprintf(out, "skip     %s (not a regular file; the shelf is flat)\n", e.Name())
			continue
		}
		sum, err := upload(ctx, c, me, filepath.Join(dir, e.Name()), e.Name(), opt, out)
		if err != nil {
			fmt.Fprintf(out, "FAILED   %s: %v\n", e.Name(), err)
			failed++
			if errors.Is(err, client.ErrBroken) {
				return failed, err
			}
			continue
		}
		local[e.Name()] = sum
		names = append(names, e.Name())
	}
	for _, name := range names {
		if err := verify(ctx, c, name, local[name], opt); err != nil {
			fmt.Fprintf(out, "FAILED   %s: %v\n", name, err)
			failed++
			continue
		}
		fmt.Fprintf(out, "verified %s  %s\n", local[name], name)
	}
	return failed, nil
}

// upload puts one file unless user has the same content under its name
// already; it returns the file's SHA-256.
func upload(ctx context.Context, c *client.Client, user, path, name string, opt options, out io.Writer) (string, error) {
	sum, size, err := hashFile(path)
	if err != nil {
		return "", err
	}
	if f, err := c.Info(ctx, name); err == nil && f.Owner == user && f.SHA256 == sum && f.Hidden() == opt.Hidden {
		fmt.Fprintf(out, "same     %s  %s\n", sum, name)
		return sum, nil
	} else if err != nil && !errors.Is(err, client.ErrNotFound) {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// --sha256 makes the server refuse content that changed while read.
	if _, err := c.Put(ctx, name, f, size, client.PutOptions{Hidden: opt.Hidden, SHA256: sum}); err != nil {
		return "", err
	}
	fmt.Fprintf(out, "put      %s  %s\n", sum, name)
	return sum, nil
}

// verify checks the server's record of name against the local hash, and
// with opt.Download the content itself.
func verify(ctx context.Context, c *client.Client, name, want string, opt options) error {
	got, err := c.Sum(ctx, name)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("server has sha256 %s, local file %s", got, want)
	}
	if !opt.Download {
		return nil
	}
	h := sha256.New()
	if err := c.Get(ctx, name, h, ""); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("downloaded sha256 %s, local file %s", got, want)
	}
	return nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
