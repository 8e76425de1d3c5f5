package files

import (
	"errors"
	"testing"
)

// Rule 4: replacing a protected file would remove or change its
// protection, so the owner's upload onto it needs the current password.
func TestReplaceProtectedNeedsCurrentPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		opt           PutOptions
		wantErr       error
		wantPassword  string // the replaced file opens with this; "" = unprotected
		wantProtected bool
	}{
		{"no password at all", PutOptions{}, ErrPasswordRequired, "", false},
		{"a new password only", PutOptions{Password: "new"}, ErrWrongPassword, "", false},
		{"the current password as --password", PutOptions{Password: "old"}, nil, "old", true},
		{"the current password from the environment", PutOptions{CurrentPassword: "old"}, nil, "old", true},
		{"a new password, the current one from the environment", PutOptions{Password: "new", CurrentPassword: "old"}, nil, "new", true},
		{"a wrong current password", PutOptions{CurrentPassword: "nope"}, ErrWrongPassword, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			old := []byte("old content")
			e.mustPut(t, "alice", PutOptions{Name: "f", Password: "old"}, old)
			opt := tt.opt
			opt.Name = "f"
			f, err := e.put("alice", opt, []byte("new content"))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("put: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if got := e.mustGet(t, "alice", "f", "old"); string(got) != string(old) {
					t.Fatalf("refused replace changed the file to %q", got)
				}
				return
			}
			if f.Protected != tt.wantProtected {
				t.Errorf("protected = %v, want %v", f.Protected, tt.wantProtected)
			}
			if got := e.mustGet(t, "alice", "f", tt.wantPassword); string(got) != "new content" {
				t.Errorf("replaced content %q", got)
			}
		})
	}
}

func TestRenameOntoProtectedRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "src"}, []byte("src"))
	e.mustPut(t, "alice", PutOptions{Name: "dst", Password: "pw"}, []byte("dst"))
	if err := e.svc.Rename(t.Context(), "alice", "src", "dst"); !errors.Is(err, ErrPasswordRequired) {
		t.Fatalf("rename onto a protected file: %v, want ErrPasswordRequired", err)
	}
	if got := e.mustGet(t, "alice", "dst", "pw"); string(got) != "dst" {
		t.Fatalf("refused rename changed the target to %q", got)
	}
}
