package s3store_test

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/sshelf/sshelf/internal/s3test"
)

// TestKeysAndInstances: keys are INSTANCE/RANDOM; stores of two instances
// on one bucket see each other's blobs and unfinished uploads, and each
// key says whose it is. A prefix keeps a store's objects apart.
func TestKeysAndInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := s3test.Bucket(t)
	a := open(t, cfg)
	cfg.Instance = "other-2"
	b := open(t, cfg)
	ka, err := a.Put(ctx, bytes.NewReader([]byte("a")), 1)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.Put(ctx, bytes.NewReader([]byte("b")), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^` + s3test.Instance + `/[0-9a-f]{32}$`).MatchString(ka) {
		t.Errorf("key %q: want %s/ and 32 hex digits", ka, s3test.Instance)
	}
	for _, tt := range []struct{ key, want string }{
		{ka, s3test.Instance}, {kb, "other-2"},
		{"other-2", ""}, {"other-2/xyz", ""}, {"a/b/" + ka[len(s3test.Instance)+1:], ""}, {"", ""},
	} {
		if got := a.Instance(tt.key); got != tt.want {
			t.Errorf("Instance(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	want := []string{ka, kb}
	slices.Sort(want)
	for _, s := range []interface {
		Keys(context.Context, func(string) error) error
	}{a, b} {
		var got []string
		s.Keys(ctx, func(k string) error { got = append(got, k); return nil })
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("Keys = %v, want %v", got, want)
		}
	}

	st, err := b.Begin(ctx, bytes.NewReader(make([]byte, partSize)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ready(partSize); err != nil {
		t.Fatal(err)
	}
	u := unfinished(t, a)
	if len(u) != 1 || a.Instance(u[0].Key) != "other-2" {
		t.Errorf("Unfinished seen by instance %s: %+v, want one of other-2", s3test.Instance, u)
	}
	if err := st.Abort(ctx); err != nil {
		t.Fatal(err)
	}

	// Under a prefix: its own keys only, and the others never see them.
	cfg.Prefix = "sshelf/blobs"
	p := open(t, cfg)
	kp, err := p.Put(ctx, bytes.NewReader([]byte("p")), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(t, p); !slices.Equal(got, []string{kp}) {
		t.Errorf("Keys under a prefix = %v, want [%s]", got, kp)
	}
	if got := keys(t, a); !slices.Equal(got, want) {
		t.Errorf("Keys beside a prefix = %v, want %v", got, want)
	}
	if _, err := s3test.Client(cfg).HeadObject(ctx, headInput(cfg.Bucket, "sshelf/blobs/"+kp)); err != nil {
		t.Errorf("the object is not under the prefix: %v", err)
	}
}
