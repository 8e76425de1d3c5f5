package sshd_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
)

// benchSize is the content moved per operation of the transfer benchmarks.
const benchSize = 32 << 20

// benchCiphers are the ciphers an OpenSSH client may pick, fastest in Go
// first. The MAC matters only for the non-AEAD one.
var benchCiphers = []struct{ name, cipher, mac string }{
	{"aes128-gcm", "aes128-gcm@openssh.com", ""},
	{"aes128-ctr+hmac-sha2-256-etm", "aes128-ctr", "hmac-sha2-256-etm@openssh.com"},
	{"chacha20-poly1305", "chacha20-poly1305@openssh.com", ""},
}

// benchClient dials srv offering only cipher (and mac). The server's own
// cipher list is bypassed only in that it must contain cipher; the
// chacha20 case measures what sshelf avoids by not offering it.
func benchClient(b *testing.B, srv *apptest.Server, cipher, mac string) *gossh.Client {
	cfg := srv.ClientConfig("bench", gossh.Password("bench-password"))
	cfg.Ciphers = []string{cipher}
	if mac != "" {
		cfg.MACs = []string{mac}
	}
	c, err := gossh.Dial("tcp", srv.Addr, cfg)
	if err != nil {
		b.Skipf("dial with %s: %v (not offered by the server)", cipher, err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func execOnce(b *testing.B, c *gossh.Client, cmd string, in io.Reader, out io.Writer) {
	s, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Stdin, s.Stdout = in, out
	var stderr bytes.Buffer
	s.Stderr = &stderr
	if err := s.Run(cmd); err != nil {
		b.Fatalf("%s: %v: %s", cmd, err, stderr.String())
	}
}

// BenchmarkExecPut measures `put` through a real in-process server: SSH
// decryption, the channel, hashing while streaming, the blob write.
func BenchmarkExecPut(b *testing.B) {
	srv := apptest.Start(b, nil)
	content := make([]byte, benchSize)
	rand.Read(content)
	for _, bc := range benchCiphers {
		b.Run(bc.name, func(b *testing.B) {
			c := benchClient(b, srv, bc.cipher, bc.mac)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				execOnce(b, c, "put big.bin", bytes.NewReader(content), io.Discard)
			}
		})
	}
}

// BenchmarkExecGet measures `get`: the blob read, the streaming hash
// check, SSH encryption.
func BenchmarkExecGet(b *testing.B) {
	srv := apptest.Start(b, nil)
	content := make([]byte, benchSize)
	rand.Read(content)
	setup := benchClient(b, srv, benchCiphers[0].cipher, "")
	execOnce(b, setup, "put big.bin", bytes.NewReader(content), io.Discard)
	for _, bc := range benchCiphers {
		b.Run(bc.name, func(b *testing.B) {
			c := benchClient(b, srv, bc.cipher, bc.mac)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				execOnce(b, c, "get big.bin", nil, io.Discard)
			}
		})
	}
}

// BenchmarkSFTP measures put and get through pkg/sftp's client with many
// requests in flight, as OpenSSH's sftp keeps them: pkg/sftp's server
// workers then apply writes slightly out of order.
func BenchmarkSFTP(b *testing.B) {
	srv := apptest.Start(b, nil)
	content := make([]byte, benchSize)
	rand.Read(content)
	c := sftpClientOpts(b, srv, "bench", "bench-password", nil,
		sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true), sftp.MaxConcurrentRequestsPerFile(64))
	b.Run("put", func(b *testing.B) {
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			f, err := c.Create("big.bin")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.ReadFrom(bytes.NewReader(content)); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for b.Loop() {
			f, err := c.Open("big.bin")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.WriteTo(io.Discard); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}
