package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startScript takes the variables from a start script's export lines and
// nothing else, and a failing script's error says what it printed.
func TestStartScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, body string
		want       map[string]string
		wantErr    string
	}{
		{"exports", "echo 'export SSHELF_TEST_S3=http://127.0.0.1:1'\necho 'export SSHELF_TEST_S3_ACCESS=a=b'\necho noise\necho 'started' >&2\n",
			map[string]string{"SSHELF_TEST_S3": "http://127.0.0.1:1", "SSHELF_TEST_S3_ACCESS": "a=b"}, ""},
		{"fails", "echo 'no binary' >&2\nexit 3\n", nil, "no binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := filepath.Join(dir, tt.name)
			if err := os.WriteFile(script, []byte("#!/bin/sh\n"+tt.body), 0o755); err != nil {
				t.Fatal(err)
			}
			got, err := startScript(context.Background(), script, filepath.Join(dir, "d"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
