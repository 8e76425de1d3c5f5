// Package loadtest holds the stress and leak tests of issue 5: many
// concurrent sessions against a real in-process server on loopback.
package loadtest

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// execResult is what one exec command returned.
type execResult struct {
	stdout, stderr []byte
	code           int
}

// runExec runs one exec command in a new session on c.
func runExec(c *gossh.Client, stdin io.Reader, cmd string) (execResult, error) {
	s, err := c.NewSession()
	if err != nil {
		return execResult{}, fmt.Errorf("new session: %w", err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	if stdin != nil {
		s.Stdin = stdin
	}
	err = s.Run(cmd)
	res := execResult{stdout: out.Bytes(), stderr: errb.Bytes()}
	var exitErr *gossh.ExitError
	switch {
	case err == nil:
	case asExit(err, &exitErr):
		res.code = exitErr.ExitStatus()
	default:
		return res, fmt.Errorf("%s: %w", cmd, err)
	}
	return res, nil
}

func asExit(err error, target **gossh.ExitError) bool {
	e, ok := err.(*gossh.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// quote quotes a name for the server's shell-like splitting.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
