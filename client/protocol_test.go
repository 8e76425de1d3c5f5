package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// fake returns a client whose server is a script of responses; what it
// sends is kept.
func fake(responses string) (*Client, *bytes.Buffer) {
	sent := &bytes.Buffer{}
	return &Client{
		w:      bufio.NewWriter(sent),
		r:      bufio.NewReader(strings.NewReader(responses)),
		closer: nopCloser{},
	}, sent
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

func infoJSON(sum string) string {
	j := fmt.Sprintf(`{"name":"f","size":5,"owner":"a","visibility":"public","protected":false,"sha256":%q,"uploaded":"2026-01-01T00:00:00Z"}`+"\n", sum)
	return fmt.Sprintf("D %d\n%sE 0 ok\n", len(j), j)
}

func TestGetDetectsBadBytes(t *testing.T) {
	good := testkit.SHA256Hex([]byte("hello"))
	c, _ := fake(infoJSON(good) + "D 5\nhellX" + "E 0 sha256 " + good + "\n")
	var out bytes.Buffer
	err := c.Get(context.Background(), "f", &out, "")
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("get of altered bytes: %v; want ErrIntegrity", err)
	}
}

func TestGetDetectsHashesThatDisagree(t *testing.T) {
	good, other := testkit.SHA256Hex([]byte("hello")), testkit.SHA256Hex([]byte("other"))
	c, _ := fake(infoJSON(other) + "D 5\nhello" + "E 0 sha256 " + good + "\n" + infoJSON(other))
	err := c.Get(context.Background(), "f", &bytes.Buffer{}, "")
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("get whose info disagrees: %v; want ErrIntegrity", err)
	}
	// A file replaced between info and get: the second info explains it.
	c, _ = fake(infoJSON(other) + "D 5\nhello" + "E 0 sha256 " + good + "\n" + infoJSON(good))
	if err := c.Get(context.Background(), "f", &bytes.Buffer{}, ""); err != nil {
		t.Fatalf("get across a replace: %v", err)
	}
}

func TestPutDetectsWrongRecordedHash(t *testing.T) {
	c, sent := fake("D 70\n" + strings.Repeat("x", 70) + "E 0 sha256 " + testkit.SHA256Hex([]byte("other")) + "\n")
	_, err := c.Put(context.Background(), "it's -x", strings.NewReader("hello"), 5, PutOptions{Hidden: true, Password: "p w"})
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("put: %v; want ErrIntegrity", err)
	}
	if want := "5 put --hidden --password 'p w' -- 'it'\\''s -x'\nhello"; sent.String() != want {
		t.Errorf("sent %q; want %q", sent.String(), want)
	}
}

func TestServerErrorsMatchSentinels(t *testing.T) {
	c, _ := fake("E 1 sshelf: get: no such file: wrong download password\nE 2 sshelf: frob: unknown command; try help\n")
	_, err := c.Do(context.Background(), []string{"get", "no such file"}, nil, 0, nil)
	if !errors.Is(err, ErrWrongPassword) || errors.Is(err, ErrNotFound) {
		t.Errorf("%v: matched the wrong sentinel", err)
	}
	var se *Error
	if !errors.As(err, &se) || se.Status != 1 {
		t.Errorf("%#v", err)
	}
	_, err = c.Do(context.Background(), []string{"frob"}, nil, 0, nil)
	if !errors.Is(err, ErrUsage) {
		t.Errorf("status 2: %v; want ErrUsage", err)
	}
}

func TestProtocolErrorBreaksTheClient(t *testing.T) {
	c, _ := fake("X what\nE 0 ok\n")
	if _, err := c.Do(context.Background(), []string{"whoami"}, nil, 0, nil); !errors.Is(err, ErrProtocol) {
		t.Fatalf("bad line: %v; want ErrProtocol", err)
	}
	if _, err := c.Do(context.Background(), []string{"whoami"}, nil, 0, nil); !errors.Is(err, ErrBroken) {
		t.Fatalf("after a protocol error: %v; want ErrBroken", err)
	}
	c, _ = fake("D 2000000\n")
	if _, err := c.Do(context.Background(), []string{"get", "x"}, nil, 0, nil); !errors.Is(err, ErrProtocol) {
		t.Fatalf("oversized chunk: %v; want ErrProtocol", err)
	}
}

func TestFailingOutputStillReadsTheResponse(t *testing.T) {
	c, _ := fake("D 3\nabcD 3\ndefE 0 sha256 x\nE 0 ok\n")
	_, err := c.Do(context.Background(), []string{"get", "x"}, nil, 0, failingWriter{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("get into a failing writer: %v", err)
	}
	if msg, err := c.Do(context.Background(), []string{"whoami"}, nil, 0, nil); err != nil || msg != "ok" {
		t.Fatalf("next request: %q, %v", msg, err)
	}
}

func TestArgumentsWithLineBreaksAreRefused(t *testing.T) {
	c, sent := fake("")
	if _, err := c.Do(context.Background(), []string{"get", "a\nb"}, nil, 0, nil); err == nil {
		t.Fatal("a line break was sent")
	}
	if sent.Len() != 0 {
		t.Errorf("sent %q", sent.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
