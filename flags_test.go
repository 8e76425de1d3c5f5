package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestBadFlagIsOneLine: a bad value is one line naming the flag and the
// accepted form, exit status 2, without the whole flag list.
func TestBadFlagIsOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--max-file-size", "1X"}, "-max-file-size: want bytes, or a number with K, M, G or T"},
		{[]string{"serve", "--quota", "ten"}, "-quota: want bytes"},
		{[]string{"serve", "--idle-timeout", "5"}, "-idle-timeout: want a duration such as 30s"},
		{[]string{"serve", "--max-sessions", "many"}, "-max-sessions: want a whole number"},
		{[]string{"serve", "--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"serve", "--signup", "maybe"}, "--signup must be open or closed"},
		{[]string{"serve", "--proxy-protocol-from", "10.0.0.5,10.0.0.300"}, "-proxy-protocol-from: want addresses or CIDR ranges"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
		lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) || !strings.HasPrefix(lines[0], "sshelf: serve: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestSizeFlags: --max-file-size and --quota take units.
func TestSizeFlags(t *testing.T) {
	f := newFlags("serve", &bytes.Buffer{}, true)
	if _, err := f.parse([]string{"--max-file-size", "1G", "--quota", "64GiB", "--min-free-space", "512M"}); err != nil {
		t.Fatal(err)
	}
	if f.opt.MaxFileSize != 1<<30 || f.opt.Quota != 64<<30 || f.opt.MinFreeSpace != 512<<20 {
		t.Fatalf("got max-file-size %d, quota %d, min-free-space %d", f.opt.MaxFileSize, f.opt.Quota, f.opt.MinFreeSpace)
	}
	g := newFlags("serve", &bytes.Buffer{}, true)
	if _, err := g.parse(nil); err != nil || g.opt.MaxFileSize != 64<<30 {
		t.Fatalf("default max-file-size %d, %v; want 64 GiB", g.opt.MaxFileSize, err)
	}
}

// TestHelpListsFlags: -h prints every flag and exits 0.
func TestHelpListsFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "-h"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("serve -h: exit %d", code)
	}
	for _, want := range []string{"-max-file-size", "-min-free-space", "-login-max-failures"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve -h lacks %s", want)
		}
	}
}

// TestPasswordHashFlags: Argon2id's cost can be set, within what a stored
// hash may ask for.
func TestPasswordHashFlags(t *testing.T) {
	f := newFlags("serve", &bytes.Buffer{}, true)
	if _, err := f.parse([]string{"--password-hash-memory", "64K", "--password-hash-passes", "1"}); err != nil {
		t.Fatal(err)
	}
	if f.opt.PasswordHashMemory != 64 || f.opt.PasswordHashPasses != 1 {
		t.Fatalf("memory %d KiB, passes %d", f.opt.PasswordHashMemory, f.opt.PasswordHashPasses)
	}
	for _, bad := range [][]string{
		{"--password-hash-memory", "4K"},
		{"--password-hash-memory", "1G"},
		{"--password-hash-memory", "1500"},
		{"--password-hash-passes", "0"},
		{"--password-hash-passes", "17"},
	} {
		if _, err := newFlags("serve", &bytes.Buffer{}, true).parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestMetricsListenFlag: off by default, set by the flag or by
// SSHELF_METRICS_LISTEN.
func TestMetricsListenFlag(t *testing.T) {
	tests := []struct {
		env, flag, want string
	}{
		{"", "", ""},
		{"", "127.0.0.1:9100", "127.0.0.1:9100"},
		{"127.0.0.1:9200", "", "127.0.0.1:9200"},
		{"127.0.0.1:9200", "127.0.0.1:9100", "127.0.0.1:9100"},
	}
	for _, tt := range tests {
		t.Setenv("SSHELF_METRICS_LISTEN", tt.env)
		var args []string
		if tt.flag != "" {
			args = []string{"--metrics-listen", tt.flag}
		}
		f := newFlags("serve", &bytes.Buffer{}, true)
		if _, err := f.parse(args); err != nil {
			t.Fatal(err)
		}
		if f.opt.MetricsListen != tt.want {
			t.Errorf("env %q, flag %q: MetricsListen %q, want %q", tt.env, tt.flag, f.opt.MetricsListen, tt.want)
		}
	}
}

// TestProxyProtocolFrom: the balancers come from the flag or from
// SSHELF_PROXY_PROTOCOL_FROM; single addresses are ranges of one.
func TestProxyProtocolFrom(t *testing.T) {
	f := newFlags("serve", &bytes.Buffer{}, true)
	if _, err := f.parse([]string{"--proxy-protocol-from", "10.0.0.5,10.0.1.0/24,2001:db8::1"}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.opt.ProxyProtocolFrom); got != "[10.0.0.5/32 10.0.1.0/24 2001:db8::1/128]" {
		t.Errorf("--proxy-protocol-from: %s", got)
	}
	t.Setenv("SSHELF_PROXY_PROTOCOL_FROM", "127.0.0.1")
	g := newFlags("serve", &bytes.Buffer{}, true)
	if _, err := g.parse(nil); err != nil || fmt.Sprint(g.opt.ProxyProtocolFrom) != "[127.0.0.1/32]" {
		t.Errorf("SSHELF_PROXY_PROTOCOL_FROM: %v, %v", g.opt.ProxyProtocolFrom, err)
	}
}
