package sshd_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/client"
)

// smallOps is how many operations one benchmark iteration does.
const smallOps = 1000

// transport runs one put or get of a small file.
type transport struct {
	put func(name string, content []byte)
	get func(name string) []byte
}

// BenchmarkSmallFiles compares 1,000 small-file operations (puts of a 1 KiB
// file, then gets of it) over one subsystem session with the same as exec
// commands: a fresh session per command on one connection, and a fresh
// connection (public key login) per command.
func BenchmarkSmallFiles(b *testing.B) {
	srv := apptest.Start(b, nil)
	ctx := context.Background()
	content := bytes.Repeat([]byte("0123456789abcdef"), 64) // 1 KiB
	name := func(i int) string { return fmt.Sprintf("small-%04d", i) }

	subsystem := func(b *testing.B) transport {
		c, err := client.New(srv.Dial(b, "bench", "bench-pw"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return transport{
			put: func(n string, data []byte) {
				if _, err := c.Put(ctx, n, bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			},
			get: func(n string) []byte {
				var out bytes.Buffer
				if err := c.Get(ctx, n, &out, ""); err != nil {
					b.Fatal(err)
				}
				return out.Bytes()
			},
		}
	}
	// subsystemOneRequest gets with one request: the server still checks
	// the content against its record, the client skips Get's info check.
	subsystemOneRequest := func(b *testing.B) transport {
		t := subsystem(b)
		c, err := client.New(srv.Dial(b, "bench", "bench-pw"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		t.get = func(n string) []byte {
			var out bytes.Buffer
			if _, err := c.Do(ctx, []string{"get", n}, nil, 0, &out); err != nil {
				b.Fatal(err)
			}
			return out.Bytes()
		}
		return t
	}
	execOne := func(b *testing.B, conn *gossh.Client, cmd string, stdin []byte) []byte {
		sess, err := conn.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		defer sess.Close()
		if stdin != nil {
			sess.Stdin = bytes.NewReader(stdin)
		}
		out, err := sess.Output(cmd)
		if err != nil {
			b.Fatalf("%s: %v", cmd, err)
		}
		return out
	}
	execTransport := func(b *testing.B, conn func() (*gossh.Client, func())) transport {
		return transport{
			put: func(n string, data []byte) {
				c, done := conn()
				defer done()
				execOne(b, c, "put "+n, data)
			},
			get: func(n string) []byte {
				c, done := conn()
				defer done()
				return execOne(b, c, "get "+n, nil)
			},
		}
	}
	execSession := func(b *testing.B) transport {
		conn := srv.Dial(b, "bench", "bench-pw")
		return execTransport(b, func() (*gossh.Client, func()) { return conn, func() {} })
	}
	execConnection := func(b *testing.B) transport {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		signer, err := gossh.NewSignerFromKey(priv)
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.App.Accounts.AddKey(ctx, "bench", string(gossh.MarshalAuthorizedKey(signer.PublicKey()))); err != nil {
			b.Fatal(err)
		}
		cfg := &gossh.ClientConfig{
			User: "bench", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
			HostKeyCallback: gossh.FixedHostKey(srv.HostKey), HostKeyAlgorithms: []string{srv.HostKey.Type()},
			Timeout: 30 * time.Second,
		}
		return execTransport(b, func() (*gossh.Client, func()) {
			conn, err := gossh.Dial("tcp", srv.Addr, cfg)
			if err != nil {
				b.Fatal(err)
			}
			return conn, func() { conn.Close() }
		})
	}

	for _, tr := range []struct {
		name string
		open func(*testing.B) transport
	}{
		{"subsystem", subsystem},
		{"subsystem-one-request-get", subsystemOneRequest},
		{"exec-session-per-command", execSession},
		{"exec-connection-per-command", execConnection},
	} {
		b.Run(tr.name+"/put", func(b *testing.B) {
			t := tr.open(b)
			for b.Loop() {
				for i := range smallOps {
					t.put(name(i), content)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*smallOps), "µs/file")
		})
		b.Run(tr.name+"/get", func(b *testing.B) {
			t := tr.open(b)
			for b.Loop() {
				for i := range smallOps {
					if got := t.get(name(i)); len(got) != len(content) {
						b.Fatalf("get %s: %d bytes", name(i), len(got))
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*smallOps), "µs/file")
		})
	}
}
