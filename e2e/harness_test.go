// Package e2e drives the real sshelf binary with the real OpenSSH client.
//
// TestMain builds the binary once (or uses $SSHELF_E2E_BIN when set, e.g. a
// -race build made by scripts/test). Each test starts its own server on a
// loopback port with its own temporary data directory, so tests run in
// parallel.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshelf/sshelf/hostkeys"
	"github.com/sshelf/sshelf/internal/testkit"
)

var (
	sshelfBin   string // path of the binary under test
	askpassPW   string // askpass script printing $SSHELF_TEST_PW
	askpassFail string // askpass script that refuses to answer
	seedKeys    string // host keys copied into new data directories
)

const (
	sshTimeout    = 60 * time.Second // one ssh or CLI invocation
	startTimeout  = 60 * time.Second // server start-up (RSA key generation included)
	stopTimeout   = 15 * time.Second // SIGTERM grace before SIGKILL in cleanup
	hostKeyAlias  = "sshelf-e2e"
	defaultPasswd = "alice-pw-1"
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// Most of a test's time is spent waiting on ssh round trips and the
	// server's deliberate login delays, not CPU: run more tests at once than
	// GOMAXPROCS unless -parallel was given.
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "4")
	}
	dir, err := os.MkdirTemp("", "sshelf-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	for _, tool := range []string{"ssh", "ssh-keygen", "ssh-keyscan"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s not found in PATH (install openssh-client): %v\n", tool, err)
			return 1
		}
	}

	if bin := os.Getenv("SSHELF_E2E_BIN"); bin != "" {
		sshelfBin, err = filepath.Abs(bin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	} else {
		sshelfBin = filepath.Join(dir, "sshelf")
		cmd := exec.Command("go", "build", "-o", sshelfBin, ".")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build of sshelf failed: %v\n%s", err, out)
			return 1
		}
	}

	// Host keys made once, copied into each new data directory: a server's
	// first start would generate an RSA-3072 key, seconds under -race.
	seedKeys = filepath.Join(dir, "hostkeys")
	if _, err := hostkeys.LoadOrCreate(seedKeys); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}

	askpassPW = filepath.Join(dir, "askpass.sh")
	script := "#!/bin/sh\n" +
		"if [ -n \"$SSHELF_TEST_PROMPT_LOG\" ]; then printf '%s\\n' \"$1\" >> \"$SSHELF_TEST_PROMPT_LOG\"; fi\n" +
		"printf '%s\\n' \"$SSHELF_TEST_PW\"\n"
	if err := os.WriteFile(askpassPW, []byte(script), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	askpassFail = filepath.Join(dir, "askpass-fail.sh")
	if err := os.WriteFile(askpassFail, []byte("#!/bin/sh\nexit 1\n"), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// ---------------------------------------------------------------------------
// Environment

// cleanEnv is the process environment without anything that could change
// how ssh or sshelf behave behind the test's back.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "SSH_AUTH_SOCK", k == "SSH_AGENT_PID", k == "DISPLAY",
			k == "SSH_ASKPASS", k == "SSH_ASKPASS_REQUIRE",
			strings.HasPrefix(k, "SSHELF_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// ---------------------------------------------------------------------------
// Server

// instance is one data directory plus the client state tied to it (the
// known_hosts file), which outlives a server process so a restart can be
// checked against the host keys seen before.
type instance struct {
	base       string // holds data/, known_hosts and the server's cwd, TMPDIR and HOME
	dataDir    string
	knownHosts string
	flags      []string // extra serve flags
	env        []string // extra environment for serve
	envOnly    bool     // pass listen/data/log-format via SSHELF_* instead of flags
	// newKeys leaves the host keys to the server's first start; otherwise
	// a data directory without keys gets copies of seedKeys.
	newKeys bool
	// slowHashes keeps the default Argon2id cost (tests of memory or of
	// the hashing queue under load).
	slowHashes bool

	mu      sync.Mutex
	allLogs bytes.Buffer // output of every server process of this instance
	servers []*server    // every process launched, for logText
}

type server struct {
	inst *instance
	cmd  *exec.Cmd
	addr string
	host string
	port string

	// The server writes its stdout and stderr straight into logFile, so a
	// line it wrote before answering a client is in the file by the time
	// the client has the answer; catchUp reads what is new.
	logFile *os.File
	readMu  sync.Mutex // catchUp
	logRead int64      // bytes of logFile read; under readMu
	partial []byte     // a line not yet ended; under readMu

	mu        sync.Mutex
	logs      bytes.Buffer
	lines     []map[string]any // parsed JSON log lines
	listening chan string

	done     chan struct{}
	exitErr  error
	stopOnce sync.Once
}

// newInstance makes a fresh (not yet existing) data directory path.
func newInstance(t *testing.T, flags ...string) *instance {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{"cwd", "tmpdir", "home"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return &instance{
		base:       base,
		dataDir:    filepath.Join(base, "data"), // created by the server
		knownHosts: filepath.Join(base, "known_hosts"),
		flags:      flags,
	}
}

// startServer starts sshelf serve on a fresh data directory.
func startServer(t *testing.T, extraFlags ...string) *server {
	t.Helper()
	return newInstance(t, extraFlags...).start(t)
}

func (in *instance) start(t *testing.T) *server {
	t.Helper()
	s := in.launch(t)
	s.await(t)
	return s
}

// launch starts the server process without waiting for it to listen
// (await does), so that several servers can start at once.
func (in *instance) launch(t *testing.T) *server {
	t.Helper()
	if !in.newKeys {
		in.seedHostKeys(t)
	}
	args := []string{"serve"}
	env := cleanEnv()
	if in.envOnly {
		env = append(env,
			"SSHELF_LISTEN=127.0.0.1:0",
			"SSHELF_DATA="+in.dataDir,
			"SSHELF_LOG_FORMAT=json")
	} else {
		args = append(args, "--listen", "127.0.0.1:0", "--data", in.dataDir, "--log-format", "json")
	}
	if !in.slowHashes {
		// Argon2id at 64 KiB and one pass: a login costs the server ~1 ms
		// of CPU instead of ~40 ms (several times that under -race), and
		// the suite is CPU-bound. The rules do not depend on the cost.
		args = append(args, "--password-hash-memory", "64K", "--password-hash-passes", "1")
	}
	args = append(args, in.flags...)
	env = append(env, "TMPDIR="+filepath.Join(in.base, "tmpdir"), "HOME="+filepath.Join(in.base, "home"))
	env = append(env, in.env...)

	s := &server{inst: in, listening: make(chan string, 1), done: make(chan struct{})}
	in.mu.Lock()
	in.servers = append(in.servers, s)
	in.mu.Unlock()
	cmd := exec.Command(sshelfBin, args...)
	cmd.Env = env
	cmd.Dir = filepath.Join(in.base, "cwd")
	cmd.Stdin = nil
	logFile, err := os.CreateTemp(in.base, "server-*.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() }) // after stop's (registered below)
	s.logFile = logFile
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.WaitDelay = 5 * time.Second
	s.cmd = cmd
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshelf serve: %v", err)
	}
	go func() {
		s.exitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop(t)
		// scripts/test runs a race-enabled server: its reports land here.
		if strings.Contains(s.logText(), "WARNING: DATA RACE") {
			t.Errorf("the server hit a data race")
		}
		if t.Failed() {
			t.Logf("server log (%s):\n%s", s.addr, tail(s.logText(), 40))
		}
	})
	return s
}

// await waits for a launched server's "listening" line.
func (s *server) await(t *testing.T) {
	t.Helper()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	timeout := time.After(startTimeout)
	exited := false
	for {
		s.catchUp() // sends the listening line's addr to s.listening
		select {
		case addr := <-s.listening:
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatalf("listening line has a bad addr %q: %v", addr, err)
			}
			if host == "" || host == "::" || host == "0.0.0.0" {
				host = "127.0.0.1"
			}
			s.addr, s.host, s.port = addr, host, port
			return
		default:
		}
		if exited { // and its output read to the end above
			t.Fatalf("sshelf serve exited before listening: %v\nlog:\n%s", s.exitErr, s.logText())
		}
		select {
		case <-s.done:
			exited = true
		case <-timeout:
			t.Fatalf("sshelf serve did not log msg=listening within %v\nlog:\n%s", startTimeout, s.logText())
		case <-poll.C:
		}
	}
}

// seedHostKeys copies the shared host keys into DATA/hostkeys unless it
// exists, creating the data directory as the server would (mode 0700).
func (in *instance) seedHostKeys(t *testing.T) {
	t.Helper()
	dst := filepath.Join(in.dataDir, "hostkeys")
	if _, err := os.Stat(dst); err == nil {
		return
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(in.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(seedKeys)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(seedKeys, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o600)
		if strings.HasSuffix(e.Name(), ".pub") {
			mode = 0o644
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, mode); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *server) logLine(line string) {
	s.mu.Lock()
	s.logs.WriteString(line)
	s.logs.WriteByte('\n')
	s.mu.Unlock()
	s.inst.mu.Lock()
	s.inst.allLogs.WriteString(line)
	s.inst.allLogs.WriteByte('\n')
	s.inst.mu.Unlock()

	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		return
	}
	s.mu.Lock()
	s.lines = append(s.lines, m)
	s.mu.Unlock()
	if m["msg"] == "listening" {
		if a, ok := m["addr"].(string); ok {
			select {
			case s.listening <- a:
			default:
			}
		}
	}
}

// catchUp hands logLine each line the server has ended since the last
// call.
func (s *server) catchUp() {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	var chunk [32 << 10]byte
	for {
		n, err := s.logFile.ReadAt(chunk[:], s.logRead)
		s.logRead += int64(n)
		s.partial = append(s.partial, chunk[:n]...)
		for {
			i := bytes.IndexByte(s.partial, '\n')
			if i < 0 {
				break
			}
			s.logLine(string(s.partial[:i]))
			s.partial = s.partial[i+1:]
		}
		if err != nil || n == 0 { // io.EOF: all read
			return
		}
	}
}

// logText is the server's output so far, a line not yet ended included.
func (s *server) logText() string {
	s.catchUp()
	s.readMu.Lock()
	partial := string(s.partial)
	s.readMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String() + partial
}

func (s *server) jsonLines() []map[string]any {
	s.catchUp()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.lines...)
}

func (in *instance) logText() string {
	in.mu.Lock()
	servers := slices.Clone(in.servers)
	in.mu.Unlock()
	for _, s := range servers {
		s.catchUp()
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.allLogs.String()
}

func (s *server) dataDir() string { return s.inst.dataDir }

// stop sends SIGTERM, waits (bounded) and then SIGKILLs.
func (s *server) stop(t *testing.T) {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			t.Errorf("sshelf serve did not exit within %v of SIGTERM; killing it", stopTimeout)
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// kill ends the server process with SIGKILL, as a crash of its host
// would, and waits for it to be gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	s.stopOnce.Do(func() {
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("SIGKILL to sshelf serve: %v", err)
		}
		<-s.done
	})
}

// instanceID is the instance id on the "listening" line (a server on
// shared stores), or "".
func (s *server) instanceID() string {
	for _, m := range s.jsonLines() {
		if m["msg"] == "listening" {
			id, _ := m["instance"].(string)
			return id
		}
	}
	return ""
}

// restart stops s and starts a new server on the same data directory.
func (s *server) restart(t *testing.T) *server {
	t.Helper()
	s.stop(t)
	return s.inst.start(t)
}

// hostKeyFingerprints returns the fingerprints of the "host key" log lines.
func (s *server) hostKeyFingerprints() []string {
	var fps []string
	for _, m := range s.jsonLines() {
		if m["msg"] == "host key" {
			if fp, ok := m["fingerprint"].(string); ok {
				fps = append(fps, fp)
			}
		}
	}
	sort.Strings(fps)
	return fps
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines cut)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// ---------------------------------------------------------------------------
// ssh client

type sshOpts struct {
	user    string
	pw      string   // account password, answered by askpass; "" = none
	key     string   // private key file for public key login instead of pw
	methods string   // PreferredAuthentications; default password,keyboard-interactive
	bind    string   // ssh -b source address
	port    string   // instead of the server's: a balancer in front of it
	banners bool     // LogLevel=INFO, at which ssh prints the server's banners (default ERROR)
	setEnv  []string // NAME=VALUE pairs sent with SetEnv
	extra   []string // extra ssh options, placed before the destination
	noCmd   bool     // run without a command (args ignored)
	stdin   io.Reader
	env     []string // extra environment for the ssh process
	timeout time.Duration
}

type result struct {
	stdout, stderr []byte
	code           int
	timedOut       bool
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, trunc(r.stdout), trunc(r.stderr))
}

func trunc(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + fmt.Sprintf("...(%d bytes)", len(b))
	}
	return string(b)
}

// sshCommand builds (but does not start) an ssh command against s.
func (s *server) sshCommand(ctx context.Context, o sshOpts, args ...string) *exec.Cmd {
	logLevel := "LogLevel=ERROR"
	if o.banners {
		logLevel = "LogLevel=INFO"
	}
	port := s.port
	if o.port != "" {
		port = o.port
	}
	a := []string{
		"-F", "/dev/null",
		"-p", port,
		"-o", "UserKnownHostsFile=" + s.inst.knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=accept-new",
		"-o", "HostKeyAlias=" + hostKeyAlias,
		"-o", "UpdateHostKeys=no",
		"-o", "CheckHostIP=no",
		"-o", "BatchMode=no",
		"-o", logLevel,
		"-o", "NumberOfPasswordPrompts=1",
		"-o", "ConnectTimeout=30",
		"-o", "ControlMaster=no",
		"-o", "ControlPath=none",
		"-o", "IdentityAgent=none",
		"-o", "ForwardAgent=no",
		"-o", "ForwardX11=no",
	}
	env := append(cleanEnv(), "SSH_ASKPASS_REQUIRE=force")
	if o.key != "" {
		a = append(a, "-i", o.key,
			"-o", "IdentitiesOnly=yes",
			"-o", "PubkeyAuthentication=yes",
			"-o", "PreferredAuthentications=publickey")
		env = append(env, "SSH_ASKPASS="+askpassFail)
	} else {
		methods := o.methods
		if methods == "" {
			methods = "password,keyboard-interactive"
		}
		a = append(a,
			"-o", "PubkeyAuthentication=no",
			"-o", "PasswordAuthentication=yes",
			"-o", "KbdInteractiveAuthentication=yes",
			"-o", "PreferredAuthentications="+methods)
		if o.pw != "" {
			env = append(env, "SSH_ASKPASS="+askpassPW, "SSHELF_TEST_PW="+o.pw)
		} else {
			env = append(env, "SSH_ASKPASS="+askpassFail)
		}
	}
	if o.bind != "" {
		a = append(a, "-b", o.bind)
	}
	if len(o.setEnv) > 0 {
		// Only the first SetEnv option counts, so send them all in one.
		a = append(a, "-o", "SetEnv="+strings.Join(o.setEnv, " "))
	}
	a = append(a, o.extra...)
	a = append(a, o.user+"@"+s.host)
	if !o.noCmd {
		a = append(a, "--")
		a = append(a, args...)
	}
	env = append(env, o.env...)
	cmd := exec.CommandContext(ctx, "ssh", a...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// ssh runs one ssh command to completion (bounded by a timeout).
func (s *server) ssh(t *testing.T, o sshOpts, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), orDefault(o.timeout))
	defer cancel()
	return runBounded(ctx, s.sshCommand(ctx, o, args...), o.stdin)
}

// orDefault is timeout, or sshTimeout if it is zero.
func orDefault(timeout time.Duration) time.Duration {
	if timeout == 0 {
		return sshTimeout
	}
	return timeout
}

// runBounded runs cmd, made with ctx, to its end with stdin (nothing if
// nil) and collects its output; the run timed out if ctx has ended.
func runBounded(ctx context.Context, cmd *exec.Cmd, stdin io.Reader) result {
	if stdin == nil {
		stdin = bytes.NewReader(nil)
	}
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.Bytes(), stderr: stderr.Bytes(), code: exitCode(err)}
	if ctx.Err() != nil {
		r.timedOut, r.code = true, -1
	}
	return r
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// run is the plain form: password login as user, stdin, command args.
func run(t *testing.T, srv *server, user, pw string, stdin []byte, args ...string) (stdout, stderr []byte, exitCode int) {
	t.Helper()
	r := srv.ssh(t, sshOpts{user: user, pw: pw, stdin: bytes.NewReader(stdin)}, args...)
	if r.timedOut {
		t.Errorf("ssh %s@ %q timed out after %v", user, args, sshTimeout)
	}
	return r.stdout, r.stderr, r.code
}

// do is run returning a result.
func do(t *testing.T, srv *server, user, pw string, stdin []byte, args ...string) result {
	t.Helper()
	r := srv.ssh(t, sshOpts{user: user, pw: pw, stdin: bytes.NewReader(stdin)}, args...)
	if r.timedOut {
		t.Errorf("ssh %s@ %q timed out after %v", user, args, sshTimeout)
	}
	return r
}

// doEnv is do with SetEnv pairs.
func doEnv(t *testing.T, srv *server, user, pw string, setEnv []string, stdin []byte, args ...string) result {
	t.Helper()
	r := srv.ssh(t, sshOpts{user: user, pw: pw, setEnv: setEnv, stdin: bytes.NewReader(stdin)}, args...)
	if r.timedOut {
		t.Errorf("ssh %s@ %q timed out after %v", user, args, sshTimeout)
	}
	return r
}

// ---------------------------------------------------------------------------
// sshelf CLI (user commands)

func cli(t *testing.T, env []string, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, sshelfBin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.WaitDelay = 5 * time.Second
	r := runBounded(ctx, cmd, bytes.NewReader(stdin))
	if r.timedOut {
		t.Errorf("sshelf %q timed out", args)
	}
	return r
}

// userCLI runs `sshelf user ARGS... --data DIR`.
func (in *instance) userCLI(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	a := append([]string{"user"}, args...)
	a = append(a, "--data", in.dataDir)
	return cli(t, nil, stdin, a...)
}

func (in *instance) mustUserCLI(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	r := in.userCLI(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("sshelf user %q: %v", args, r)
	}
	return r
}

// newKey makes an ed25519 key pair; it returns the private key path and the
// public key line.
func newKey(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", key).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pub)
}

// ---------------------------------------------------------------------------
// Assertions and file-level helpers

// q quotes s for the server's shell-like command splitting.
func q(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func mustOK(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: want exit 0, got %v", what, r)
	}
}

// expectErr checks exit code, one error line on stderr starting with
// prefix (if prefix != ""), and nothing on stdout.
func expectErr(t *testing.T, r result, code int, prefix, what string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: want exit %d, got %v", what, code, r)
		return
	}
	checkOneErrorLine(t, r, prefix, what)
	if len(r.stdout) != 0 {
		t.Errorf("%s: want empty stdout on error, got %q", what, trunc(r.stdout))
	}
}

func checkOneErrorLine(t *testing.T, r result, prefix, what string) {
	t.Helper()
	s := string(r.stderr)
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
		t.Errorf("%s: want exactly one line on stderr, got %q", what, s)
	}
	if !strings.HasPrefix(s, "sshelf: ") {
		t.Errorf("%s: stderr %q does not start with %q", what, s, "sshelf: ")
	}
	if prefix != "" && !strings.HasPrefix(s, prefix) {
		t.Errorf("%s: stderr %q does not start with %q", what, s, prefix)
	}
	if prefix != "" && len(strings.TrimSpace(strings.TrimPrefix(s, prefix))) == 0 {
		t.Errorf("%s: stderr %q has no reason after the prefix", what, s)
	}
}

// login makes sure user exists (signup open) and can log in with pw.
func login(t *testing.T, srv *server, user, pw string) {
	t.Helper()
	r := do(t, srv, user, pw, nil, "whoami")
	if r.code != 0 || string(r.stdout) != user+"\n" {
		t.Fatalf("login as %s: want whoami %q exit 0, got %v", user, user+"\n", r)
	}
}

// put uploads content and checks the "HEX  NAME" answer.
func put(t *testing.T, srv *server, user, pw, name string, content []byte, flags ...string) {
	t.Helper()
	args := append([]string{"put", q(name)}, flags...)
	r := do(t, srv, user, pw, content, args...)
	if r.code != 0 {
		t.Fatalf("put %q as %s: want exit 0, got %v", name, user, r)
	}
	want := testkit.SHA256Hex(content) + "  " + name + "\n"
	if string(r.stdout) != want {
		t.Fatalf("put %q: want stdout %q, got %q", name, want, r.stdout)
	}
}

// get downloads and requires success.
func get(t *testing.T, srv *server, user, pw, name string, flags ...string) []byte {
	t.Helper()
	args := append([]string{"get", q(name)}, flags...)
	r := do(t, srv, user, pw, nil, args...)
	if r.code != 0 {
		t.Fatalf("get %q as %s: want exit 0, got %v", name, user, r)
	}
	return r.stdout
}

type fileInfo struct {
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	Owner      string `json:"owner"`
	Visibility string `json:"visibility"`
	Protected  bool   `json:"protected"`
	SHA256     string `json:"sha256"`
	Uploaded   string `json:"uploaded"`
}

var infoKeys = []string{"name", "size", "owner", "visibility", "protected", "sha256", "uploaded"}

// checkInfoObject checks the keys and their JSON types.
func checkInfoObject(t *testing.T, raw json.RawMessage) fileInfo {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("bad JSON object %s: %v", raw, err)
	}
	for _, k := range infoKeys {
		v, ok := m[k]
		if !ok {
			t.Errorf("JSON %s lacks key %q", raw, k)
			continue
		}
		switch k {
		case "size":
			if _, ok := v.(float64); !ok {
				t.Errorf("JSON key size is %T, want number", v)
			}
		case "protected":
			if _, ok := v.(bool); !ok {
				t.Errorf("JSON key protected is %T, want bool", v)
			}
		default:
			if _, ok := v.(string); !ok {
				t.Errorf("JSON key %s is %T, want string", k, v)
			}
		}
	}
	var fi fileInfo
	if err := json.Unmarshal(raw, &fi); err != nil {
		t.Fatalf("bad JSON object %s: %v", raw, err)
	}
	if fi.Visibility != "public" && fi.Visibility != "hidden" {
		t.Errorf("visibility %q, want public or hidden", fi.Visibility)
	}
	ts, err := time.Parse(time.RFC3339, fi.Uploaded)
	if err != nil {
		t.Errorf("uploaded %q is not RFC 3339: %v", fi.Uploaded, err)
	} else {
		if !strings.HasSuffix(fi.Uploaded, "Z") {
			t.Errorf("uploaded %q is not UTC (want a Z suffix)", fi.Uploaded)
		}
		if d := time.Since(ts); d < -time.Hour || d > 24*time.Hour {
			t.Errorf("uploaded %q is far from now", fi.Uploaded)
		}
	}
	if fi.SHA256 == "" && fi.Protected {
		// Withheld: another's protected file (rule 3); e2e/protected_hash_test.go.
	} else if len(fi.SHA256) != 64 || strings.ToLower(fi.SHA256) != fi.SHA256 {
		t.Errorf("sha256 %q is not 64 lowercase hex digits", fi.SHA256)
	}
	return fi
}

// info returns `info NAME --json`, requiring success.
func info(t *testing.T, srv *server, user, pw, name string) fileInfo {
	t.Helper()
	r := do(t, srv, user, pw, nil, "info", q(name), "--json")
	if r.code != 0 {
		t.Fatalf("info %q --json as %s: want exit 0, got %v", name, user, r)
	}
	return checkInfoObject(t, bytes.TrimSpace(r.stdout))
}

// lsNames returns the names printed by plain `ls`.
func lsNames(t *testing.T, srv *server, user, pw string) []string {
	t.Helper()
	r := do(t, srv, user, pw, nil, "ls")
	if r.code != 0 {
		t.Fatalf("ls as %s: want exit 0, got %v", user, r)
	}
	s := string(r.stdout)
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		t.Errorf("ls output %q does not end with a newline", s)
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// lsJSON returns `ls --json`.
func lsJSON(t *testing.T, srv *server, user, pw string) []fileInfo {
	t.Helper()
	r := do(t, srv, user, pw, nil, "ls", "--json")
	if r.code != 0 {
		t.Fatalf("ls --json as %s: want exit 0, got %v", user, r)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(r.stdout), &raws); err != nil {
		t.Fatalf("ls --json: not one JSON array: %v: %q", err, r.stdout)
	}
	if raws == nil {
		t.Fatalf("ls --json printed %q, want an array", bytes.TrimSpace(r.stdout))
	}
	var out []fileInfo
	for _, raw := range raws {
		out = append(out, checkInfoObject(t, raw))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Data directory inspection

// isCatalogFile reports whether a data-dir file is part of the embedded
// database (which changes on every operation and is not a leftover), or
// its disk reserve.
func isCatalogFile(rel string) bool {
	base := filepath.Base(rel)
	for _, suf := range []string{"-wal", "-shm", "-journal", "-reserve"} {
		base = strings.TrimSuffix(base, suf)
	}
	return strings.HasSuffix(base, ".db") || strings.Contains(base, ".sqlite") ||
		strings.HasSuffix(base, ".lock") || base == "LOCK"
}

// contentFiles lists the data directory's files other than host keys and the
// catalog database: the stored contents and anything left behind.
func contentFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dataDir, p)
		if d.IsDir() {
			if rel == "hostkeys" {
				return filepath.SkipDir
			}
			return nil
		}
		if isCatalogFile(rel) {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dataDir, err)
	}
	sort.Strings(out)
	return out
}

// allFiles lists every regular file under dir.
func allFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return out
}

// waitContentFiles polls until the data dir's content files equal want.
func waitContentFiles(t *testing.T, dataDir string, want []string, within time.Duration) {
	t.Helper()
	var got []string
	if pollUntil(within, func() bool {
		got = contentFiles(t, dataDir)
		return slices.Equal(got, want)
	}) {
		return
	}
	t.Errorf("files left behind under the data dir after %v:\n want %q\n got  %q", within, want, got)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// scanLines splits output into lines without the trailing newline.
func scanLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// pollUntil calls cond until it is true or within has passed: often at
// first, as most waits are short, then every 200 ms.
func pollUntil(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
	}
}

// tryLogin runs whoami with password authentication only (one failure per
// wrong attempt, where password,keyboard-interactive would count two).
func tryLogin(t *testing.T, srv *server, user, pw string) result {
	t.Helper()
	r := srv.ssh(t, sshOpts{user: user, pw: pw, methods: "password",
		extra: []string{"-o", "KbdInteractiveAuthentication=no"}}, "whoami")
	if r.timedOut {
		t.Errorf("login as %s timed out", user)
	}
	return r
}

// outsideWrites lists what the server wrote into its working directory,
// TMPDIR or HOME (the contract: nothing outside the data directory).
func (in *instance) outsideWrites(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range []string{"cwd", "tmpdir", "home"} {
		dir := filepath.Join(in.base, d)
		_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err == nil && p != dir {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}
