// Package s3test gives tests a real S3 endpoint: the gateway that
// SSHELF_TEST_S3 names (scripts/test starts one for the whole run), else a
// versitygw on loopback that the test binary starts once and that dies
// with it. Each test gets a fresh bucket.
package s3test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/tiedproc"
)

// The environment of a shared gateway, as scripts/s3-gateway prints it,
// and of the binary to run.
const (
	EnvEndpoint = "SSHELF_TEST_S3"
	EnvAccess   = "SSHELF_TEST_S3_ACCESS"
	EnvSecret   = "SSHELF_TEST_S3_SECRET"
	// EnvDir is the folder the shared gateway serves, for tests that
	// damage an object behind the store's back (see ObjectPath).
	EnvDir    = "SSHELF_TEST_S3_DIR"
	EnvBinary = "SSHELF_VERSITYGW"
)

// versitygwModule is what a missing binary is installed from.
const versitygwModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Gateway is a versitygw process serving a folder on a loopback port.
type Gateway struct {
	Endpoint, Access, Secret string

	bin, dir, addr string

	mu     sync.Mutex
	proc   *os.Process
	exited chan struct{} // closed when proc is gone
}

var shared struct {
	once                     sync.Once
	endpoint, access, secret string
	dir                      string // the folder it serves; "" unknown
	err                      error
}

// Endpoint returns the shared gateway's URL and root keys, starting the
// gateway on first use.
func Endpoint(t testing.TB) (endpoint, access, secret string) {
	t.Helper()
	shared.once.Do(func() {
		if e := os.Getenv(EnvEndpoint); e != "" {
			shared.endpoint, shared.access, shared.secret = e, os.Getenv(EnvAccess), os.Getenv(EnvSecret)
			shared.dir = os.Getenv(EnvDir)
			if shared.access == "" || shared.secret == "" {
				shared.err = fmt.Errorf("%s is set, but %s or %s is not", EnvEndpoint, EnvAccess, EnvSecret)
			}
			return
		}
		removeStale()
		dir, err := os.MkdirTemp("", staleGlob[:len(staleGlob)-1])
		if err != nil {
			shared.err = err
			return
		}
		// The owner's pid lets a later run remove the folder once this
		// binary is gone: nothing runs after the last test to do it.
		if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			shared.err = err
			return
		}
		g, err := start(dir)
		if err != nil {
			shared.err = err
			return
		}
		shared.endpoint, shared.access, shared.secret = g.Endpoint, g.Access, g.Secret
		shared.dir = filepath.Join(g.dir, "data")
	})
	if shared.err != nil {
		t.Fatalf("s3 gateway: %v", shared.err)
	}
	return shared.endpoint, shared.access, shared.secret
}

// Start starts a gateway of the test's own, for tests that stop it; it
// is stopped when the test ends.
func Start(t testing.TB) *Gateway {
	t.Helper()
	g, err := start(t.TempDir())
	if err != nil {
		t.Fatalf("s3 gateway: %v", err)
	}
	t.Cleanup(func() { g.kill() })
	return g
}

// start runs a gateway on a free port with fresh keys, trying a few ports
// in case another process takes the one picked before the gateway binds it.
func start(dir string) (*Gateway, error) {
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	g := &Gateway{bin: bin, dir: dir, Access: randomHex(10), Secret: randomHex(20)}
	for try := 0; ; try++ {
		g.addr, err = freeAddr()
		if err != nil {
			return nil, err
		}
		g.Endpoint = "http://" + g.addr
		if err = g.run(); err == nil || try == 2 {
			return g, err
		}
	}
}

// Stop kills the gateway and waits until it is gone.
func (g *Gateway) Stop(t testing.TB) {
	t.Helper()
	if err := g.kill(); err != nil {
		t.Fatal(err)
	}
}

// Restart starts a stopped gateway again, on its address and folder.
func (g *Gateway) Restart(t testing.TB) {
	t.Helper()
	if err := g.run(); err != nil {
		t.Fatalf("restart s3 gateway: %v", err)
	}
}

func (g *Gateway) kill() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.proc == nil {
		return nil
	}
	g.proc.Kill()
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("s3 gateway %s (pid %d) did not exit", g.addr, g.proc.Pid)
	}
	g.proc = nil
	return nil
}

// run starts the process and waits (bounded) until it answers HTTP.
func (g *Gateway) run() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	data := filepath.Join(g.dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(g.dir, "versitygw.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(g.bin, "--port", g.addr, "--access", g.Access, "--secret", g.Secret, "--quiet", "posix", data)
	cmd.Stdout, cmd.Stderr = log, log
	// The gateway dies with the test binary, whatever ends it.
	if err := tiedproc.Start(cmd); err != nil {
		return fmt.Errorf("start %s: %w", g.bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	g.proc, g.exited = cmd.Process, exited
	client := &http.Client{Timeout: time.Second}
	for range 300 {
		select {
		case <-exited:
			g.proc = nil
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("%s exited at start: %s", g.bin, lastLines(out, 5))
		default:
		}
		if resp, err := client.Get(g.Endpoint + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
	g.proc = nil
	return fmt.Errorf("%s on %s did not answer within 15 s", g.bin, g.addr)
}

// DeadEndpoint returns a loopback URL where nothing listens.
func DeadEndpoint(t testing.TB) string {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// binary finds versitygw: $SSHELF_VERSITYGW, the cache, GOPATH/bin, PATH;
// else it installs it into the cache.
func binary() (string, error) {
	if b := os.Getenv(EnvBinary); b != "" {
		if _, err := os.Stat(b); err != nil {
			return "", fmt.Errorf("%s: %w", EnvBinary, err)
		}
		return b, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	cache := filepath.Join(home, ".cache", "sshelf", "bin")
	candidates := []string{filepath.Join(cache, "versitygw")}
	goBin := goTool()
	if out, err := exec.Command(goBin, "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			candidates = append(candidates, filepath.Join(p, "bin", "versitygw"))
		}
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	cmd := exec.Command(goBin, "install", versitygwModule)
	cmd.Env = append(os.Environ(), "GOBIN="+cache)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("install versitygw: %v: %s", err, lastLines(out, 10))
	}
	return filepath.Join(cache, "versitygw"), nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// staleGlob names the shared gateways' folders in the temporary folder.
const staleGlob = "sshelf-s3test-*"

// removeStale removes the folders of shared gateways whose test binary
// has exited.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), staleGlob))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
