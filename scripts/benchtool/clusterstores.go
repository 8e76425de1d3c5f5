package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
)

// The run's database and bucket, created fresh on servers of its own.
const (
	benchDatabase = "sshelf_bench"
	benchBucket   = "sshelf-bench"
	benchRegion   = "us-east-1"
)

// sharedStores are a cluster's PostgreSQL and S3 store for one run: the
// project's own throw-away servers (scripts/postgres: no fsync, like a
// test server; scripts/s3-gateway: versitygw onto a folder), both under
// the run's directory, on the same disk as the embedded server's files.
type sharedStores struct {
	catalog        string // postgres:// URL of the run's database
	blobs          string // s3://BUCKET?endpoint=URL&region=R
	access, secret string
	postgres       string // server version, for the report
	gateway        string // S3 gateway and its version, for the report
	gatewayPid     int
}

// env is the environment a cluster's sshelf runs with: the --catalog and
// --blobs flags through their variables (so `sshelf user` gets them too)
// and the bucket's credentials.
func (s *sharedStores) env() []string {
	return []string{"SSHELF_CATALOG=" + s.catalog, "SSHELF_BLOBS=" + s.blobs,
		"AWS_ACCESS_KEY_ID=" + s.access, "AWS_SECRET_ACCESS_KEY=" + s.secret}
}

// startShared starts PostgreSQL and the S3 gateway with scripts/postgres
// and scripts/s3-gateway, creates the run's database and bucket, and
// registers their stopping with e's cleanup.
func startShared(ctx context.Context, e *env) (*sharedStores, error) {
	for _, s := range []string{"scripts/postgres", "scripts/s3-gateway"} {
		if _, err := os.Stat(s); err != nil {
			return nil, fmt.Errorf("--cluster needs %s: run benchtool from the repository's top folder (scripts/bench does): %w", s, err)
		}
	}
	pgDir, s3Dir := filepath.Join(e.dir, "postgres"), filepath.Join(e.dir, "s3")
	e.atCleanup(func() { stopScript("scripts/postgres", pgDir) })
	pg, err := startScript(ctx, "scripts/postgres", pgDir)
	if err != nil {
		return nil, err
	}
	admin := pg["SSHELF_TEST_POSTGRES"]
	if admin == "" {
		return nil, fmt.Errorf("scripts/postgres start printed no SSHELF_TEST_POSTGRES")
	}
	e.atCleanup(func() { stopScript("scripts/s3-gateway", s3Dir) })
	gw, err := startScript(ctx, "scripts/s3-gateway", s3Dir)
	if err != nil {
		return nil, err
	}
	st := &sharedStores{access: gw["SSHELF_TEST_S3_ACCESS"], secret: gw["SSHELF_TEST_S3_SECRET"]}
	endpoint := gw["SSHELF_TEST_S3"]
	if endpoint == "" || st.access == "" || st.secret == "" {
		return nil, fmt.Errorf("scripts/s3-gateway start printed no SSHELF_TEST_S3, _ACCESS or _SECRET")
	}
	if st.catalog, st.postgres, err = createDatabase(ctx, admin); err != nil {
		return nil, err
	}
	if err := createBucket(ctx, endpoint, st.access, st.secret); err != nil {
		return nil, err
	}
	st.blobs = "s3://" + benchBucket + "?" + url.Values{"endpoint": {endpoint}, "region": {benchRegion}}.Encode()
	st.gateway, st.gatewayPid = describeGateway(s3Dir)
	return st, nil
}

// startScript runs `SCRIPT start DIR` and returns the variables of the
// export lines it prints.
func startScript(ctx context.Context, script, dir string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, script, "start", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s start %s: %v: %s", script, dir, err, strings.TrimSpace(stderr.String()))
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if kv, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			if k, v, ok := strings.Cut(kv, "="); ok {
				vars[k] = v
			}
		}
	}
	return vars, nil
}

// stopScript runs `SCRIPT stop DIR`, bounded: cleanup must end.
func stopScript(script, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, script, "stop", dir).CombinedOutput(); err != nil {
		logf("%s stop %s: %v: %s", script, dir, err, strings.TrimSpace(string(out)))
	}
}

// createDatabase creates the run's database on the server at admin and
// returns its URL and the server's version.
func createDatabase(ctx context.Context, admin string) (dbURL, version string, err error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, admin)
	if err != nil {
		return "", "", fmt.Errorf("connect to the bench's PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+benchDatabase+" TEMPLATE template0"); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", benchDatabase, err)
	}
	if err := conn.QueryRow(cctx, "SHOW server_version").Scan(&version); err != nil {
		return "", "", fmt.Errorf("PostgreSQL version: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", "", fmt.Errorf("PostgreSQL URL: %w", err)
	}
	u.Path = "/" + benchDatabase
	return u.String(), version, nil
}

// createBucket creates the run's bucket, path-style, as sshelf reaches it.
func createBucket(ctx context.Context, endpoint, access, secret string) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := s3.New(s3.Options{
		Region:                     benchRegion,
		BaseEndpoint:               aws.String(endpoint),
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	if _, err := c.CreateBucket(cctx, &s3.CreateBucketInput{Bucket: aws.String(benchBucket)}); err != nil {
		return fmt.Errorf("create bucket %s at %s: %w", benchBucket, endpoint, err)
	}
	return nil
}

// describeGateway names the running versitygw and its module version (from
// the binary's build information), and returns its pid.
func describeGateway(dir string) (string, int) {
	b, err := os.ReadFile(filepath.Join(dir, "versitygw.pid"))
	if err != nil {
		return "versitygw", 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return "versitygw", pid
	}
	out, _ := exec.Command("go", "version", "-m", exe).Output()
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/versity/versitygw" {
			return "versitygw " + f[2], pid
		}
	}
	return "versitygw", pid
}
