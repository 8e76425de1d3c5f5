package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/internal/tiedproc"
)

// env is one benchmark run's private world: a temporary directory for
// both servers' files (on the disk, or on tmpfs with --tmpfs; see
// storage.go), one for the client's files, a client key, a known_hosts
// file, and the server processes started.
type env struct {
	dir      string // the servers' files, the keys, sshd's config
	client   string // the source file and the downloads (may be dir)
	server   place  // what dir lives on, for the report
	clientAt place  // what client lives on
	sshelf   string // the binary
	key      string // client private key file
	kh       string // known_hosts
	signer   gossh.Signer
	pubLn    string // the client key as an authorized_keys line

	mu       sync.Mutex
	procs    []*exec.Cmd
	stops    []func() // run at cleanup, after the processes, newest first
	sshdUser string   // the temporary account sshd logs in, if one was made
}

// target is one server as the clients see it.
type target struct {
	name    string // "sshelf" or "OpenSSH"
	port    int
	user    string
	hostKey gossh.PublicKey
	pid     int
	// log counts the server's warnings and errors (sshelf only).
	log *serverLog
	// remote is where a file named name lives, for sftp and scp.
	remote func(name string) string
	// putCmd and getCmd are the exec commands that store stdin as name
	// and print it back.
	putCmd, getCmd func(name string) string
}

func (t *target) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.port)) }

func newEnv(ctx context.Context, c config) (*env, error) {
	base, err := serverBase(c.tmpfs)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(base, "sshelf-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, client: dir, sshelf: c.sshelfBin, key: filepath.Join(dir, "client_key"), kh: filepath.Join(dir, "known_hosts")}
	if cb := clientBase(dir, c.size); cb != dir && !c.tmpfs {
		if e.client, err = os.MkdirTemp(cb, "sshelf-bench-client-"); err != nil {
			e.cleanup()
			return nil, err
		}
	}
	for _, p := range []struct {
		to  *place
		dir string
	}{{&e.server, e.dir}, {&e.clientAt, e.client}} {
		m, err := mountOf(p.dir)
		if err != nil {
			e.cleanup()
			return nil, err
		}
		*p.to = place{dir: p.dir, mount: m}
	}
	check := checkSpace
	if c.cluster {
		check = func(server, client place, size int64) error { return checkClusterSpace(server, client, size, c.rounds) }
	}
	if c.only == "" || c.only == "transfer" {
		if err := check(e.server, e.clientAt, c.size); err != nil {
			e.cleanup()
			return nil, err
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.cleanup()
		return nil, err
	}
	if err := writeKey(e.key, priv); err != nil {
		e.cleanup()
		return nil, err
	}
	e.signer, _ = gossh.NewSignerFromKey(priv)
	sp, _ := gossh.NewPublicKey(pub)
	e.pubLn = strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sp)))
	if err := os.WriteFile(e.kh, nil, 0o600); err != nil {
		e.cleanup()
		return nil, err
	}
	return e, nil
}

func writeKey(path string, priv ed25519.PrivateKey) error {
	blk, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(blk), 0o600)
}

// atCleanup registers fn to run at cleanup, once the processes started
// are stopped: stopping the cluster's PostgreSQL and S3 gateway.
func (e *env) atCleanup(fn func()) {
	e.mu.Lock()
	e.stops = append(e.stops, fn)
	e.mu.Unlock()
}

// start runs a server process in its own process group, so that cleanup
// can stop it and every child it forked (sshd forks per connection).
func (e *env) start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := tiedproc.Start(cmd); err != nil { // killed with the benchtool, however it ends
		return err
	}
	e.mu.Lock()
	e.procs = append(e.procs, cmd)
	e.mu.Unlock()
	return nil
}

// cleanup stops every process started (TERM, then KILL after 5 s) and
// removes the temporary directory.
func (e *env) cleanup() {
	e.mu.Lock()
	procs := e.procs
	stops := e.stops
	e.procs, e.stops = nil, nil
	e.mu.Unlock()
	for _, p := range procs {
		syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	if e.sshdUser != "" {
		exec.Command("userdel", "-f", e.sshdUser).Run()
	}
	os.RemoveAll(e.dir)
	if e.client != e.dir {
		os.RemoveAll(e.client)
	}
}

// loginFor returns the account sshd logs the client in as. As root it is
// a temporary account with /bin/sh and a home under the temporary
// directory, so that sshd runs commands the way a plain account's do:
// root's own shell start-up files (here, say, pyenv's) would otherwise
// add their cost to every OpenSSH command. The account owns store.
func (e *env) loginFor(store string) (string, error) {
	if os.Geteuid() != 0 {
		me, err := user.Current()
		if err != nil {
			return "", err
		}
		return me.Username, nil
	}
	if e.sshdUser != "" {
		return e.sshdUser, chownTo(e.sshdUser, store)
	}
	name := fmt.Sprintf("sshelfbench%d", os.Getpid())
	home := filepath.Join(e.dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	// Password "*": no password, yet not a locked account, which sshd
	// would refuse even a key for.
	if out, err := exec.Command("useradd", "-M", "-N", "-d", home, "-s", "/bin/sh", "-p", "*", name).CombinedOutput(); err != nil {
		return "", fmt.Errorf("useradd: %v: %s", err, out)
	}
	e.sshdUser = name
	// The account must pass through the temporary directory.
	if err := os.Chmod(e.dir, 0o711); err != nil {
		return "", err
	}
	if err := chownTo(name, home); err != nil {
		return "", err
	}
	return name, chownTo(name, store)
}

func chownTo(name, path string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// addKnownHost trusts key for 127.0.0.1:port in the clients' known_hosts.
func (e *env) addKnownHost(port int, key gossh.PublicKey) error {
	f, err := os.OpenFile(e.kh, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "[127.0.0.1]:%d %s", port, gossh.MarshalAuthorizedKey(key))
	return err
}

// startSshelf creates users (each with the client key) in data and serves
// it on a loopback port.
func (e *env) startSshelf(ctx context.Context, data string, users ...string) (*target, error) {
	return e.startSshelfWith(ctx, sshelfRun{name: "sshelf", data: data, users: users})
}

// sshelfRun is how one sshelf server is started.
type sshelfRun struct {
	name  string   // the target's name in the logs and the table
	data  string   // --data
	users []string // accounts to create with the client key (none: they exist)
	login string   // the account the transfers use (default users[0])
	args  []string // more flags for serve
	env   []string // more environment, for serve and user (SSHELF_CATALOG, ...)
}

func (e *env) startSshelfWith(ctx context.Context, r sshelfRun) (*target, error) {
	// `sshelf user` works on an existing data directory only.
	if err := os.MkdirAll(r.data, 0o700); err != nil {
		return nil, err
	}
	environ := append(os.Environ(), r.env...)
	for _, u := range r.users {
		cmd := exec.CommandContext(ctx, e.sshelf, "user", "key", "add", u, "--data", r.data)
		cmd.Env = environ
		cmd.Stdin = strings.NewReader(e.pubLn + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("sshelf user key add %s: %v: %s", u, err, out)
		}
	}
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", r.data, "--log-format", "json"}, r.args...)
	cmd := exec.Command(e.sshelf, args...)
	cmd.Env = environ
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := e.start(cmd); err != nil {
		return nil, err
	}
	addrc := make(chan string, 1)
	warns := &serverLog{}
	go func() {
		// Read the log to its end: the server logs every operation and
		// must never block on a full pipe.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l struct{ Msg, Addr, Level string }
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			if l.Msg == "listening" {
				select {
				case addrc <- l.Addr:
				default:
				}
			}
			if l.Level == "WARN" || l.Level == "ERROR" {
				warns.add(sc.Text())
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("%s did not log \"listening\" within 60 s (warnings: %s)", r.name, warns.first())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	_, portS, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portS)
	b, err := os.ReadFile(filepath.Join(r.data, "hostkeys", "ssh_host_ed25519_key.pub"))
	if err != nil {
		return nil, err
	}
	hk, _, _, _, err := gossh.ParseAuthorizedKey(b)
	if err != nil {
		return nil, err
	}
	if err := e.addKnownHost(port, hk); err != nil {
		return nil, err
	}
	login := r.login
	if login == "" && len(r.users) > 0 {
		login = r.users[0]
	}
	return &target{
		name: r.name, port: port, user: login, hostKey: hk, pid: cmd.Process.Pid, log: warns,
		remote: func(n string) string { return n },
		putCmd: func(n string) string { return "put " + n },
		getCmd: func(n string) string { return "get " + n },
	}, nil
}

// serverLog keeps the count and the first few of a server's warning and
// error log lines, for the report.
type serverLog struct {
	mu    sync.Mutex
	n     int
	lines []string
}

func (l *serverLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.lines) < 5 {
		l.lines = append(l.lines, line)
	}
}

// count and first report what add kept.
func (l *serverLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *serverLog) first() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "none"
	}
	return strings.Join(l.lines, "; ")
}

// startSSHD runs a private OpenSSH sshd: its own config, host key and
// authorized_keys under the temporary directory, loopback only, the
// current user (root on a fresh machine) logging in with the client key.
func (e *env) startSSHD(ctx context.Context) (*target, error) {
	dir := filepath.Join(e.dir, "sshd")
	store := filepath.Join(e.dir, "sshd-files")
	for _, d := range []string{dir, store} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	_, hpriv, _ := ed25519.GenerateKey(rand.Reader)
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := writeKey(hostKey, hpriv); err != nil {
		return nil, err
	}
	hs, _ := gossh.NewSignerFromKey(hpriv)
	ak := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(ak, []byte(e.pubLn+"\n"), 0o644); err != nil {
		return nil, err
	}
	login, err := e.loginFor(store)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// MaxStartups and MaxSessions are raised so that the concurrency test
	// measures the server, not its flood protection; everything about
	// the transfers (ciphers, MACs, kex) is the default.
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 2000
MaxSessions 100
LogLevel ERROR
Subsystem sftp internal-sftp
`, port, hostKey, ak)
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cfgPath)
	// Its log (-e) goes to a file: the readiness probe below alone makes
	// it complain of a connection closed before the handshake.
	logf, err := os.Create(filepath.Join(dir, "sshd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	if err := e.start(cmd); err != nil {
		return nil, fmt.Errorf("sshd: %w", err)
	}
	if err := waitBanner(ctx, port); err != nil {
		return nil, fmt.Errorf("sshd: %w", err)
	}
	if err := e.addKnownHost(port, hs.PublicKey()); err != nil {
		return nil, err
	}
	path := func(n string) string { return filepath.Join(store, n) }
	return &target{
		name: "OpenSSH", port: port, user: login, hostKey: hs.PublicKey(), pid: cmd.Process.Pid,
		remote: path,
		putCmd: func(n string) string { return "cat > " + path(n) },
		getCmd: func(n string) string { return "cat " + path(n) },
	}, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitBanner waits (bounded) until the server on port says SSH-2.0.
func waitBanner(ctx context.Context, port int) error {
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			b := make([]byte, 8)
			_, err = io.ReadFull(c, b)
			c.Close()
			if err == nil && string(b) == "SSH-2.0-" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("no SSH banner within 10 s")
}

// clientArgs are the OpenSSH client options every run uses: no config
// file, the port, the key, the known hosts, no prompts. Nothing that
// changes how bytes move: ciphers, MACs and kex are the client's defaults.
func (e *env) clientArgs(portFlag string, t *target) []string {
	return []string{"-F", "/dev/null", portFlag, strconv.Itoa(t.port), "-i", e.key,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile=" + e.kh, "-o", "GlobalKnownHostsFile=/dev/null"}
}

// dial opens a Go SSH connection to t with the client key.
func (e *env) dial(t *target, user string) (*gossh.Client, error) {
	return gossh.Dial("tcp", t.addr(), &gossh.ClientConfig{
		User:              user,
		Auth:              []gossh.AuthMethod{gossh.PublicKeys(e.signer)},
		HostKeyCallback:   gossh.FixedHostKey(t.hostKey),
		HostKeyAlgorithms: []string{t.hostKey.Type()},
		Timeout:           60 * time.Second,
	})
}

// dialWithin is dial with a deadline on the whole connection: every read
// and write after d fails.
func (e *env) dialWithin(t *target, user string, d time.Duration) (*gossh.Client, error) {
	conn, err := net.DialTimeout("tcp", t.addr(), 60*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(d))
	cc, chans, reqs, err := gossh.NewClientConn(conn, t.addr(), &gossh.ClientConfig{
		User:              user,
		Auth:              []gossh.AuthMethod{gossh.PublicKeys(e.signer)},
		HostKeyCallback:   gossh.FixedHostKey(t.hostKey),
		HostKeyAlgorithms: []string{t.hostKey.Type()},
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return gossh.NewClient(cc, chans, reqs), nil
}
