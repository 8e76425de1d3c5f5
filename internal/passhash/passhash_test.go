package passhash

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

var cheap = Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := New(cheap, 2)
	tests := []struct{ name, password string }{
		{"ascii", "correct horse battery staple"},
		{"one char", "x"},
		{"unicode", "pässwörd-日本"},
		{"spaces", "  pw  "},
		{"NUL inside", "a\x00b"},
		{"long", strings.Repeat("p", 4096)},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc, err := h.Hash(ctx, tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Errorf("encoding %q", enc)
			}
			if len(tt.password) >= 8 && strings.Contains(enc, tt.password) {
				t.Errorf("encoding %q contains the password", enc)
			}
			ok, err := h.Verify(ctx, tt.password, enc)
			if err != nil || !ok {
				t.Fatalf("Verify(right) = %v, %v", ok, err)
			}
			for _, wrong := range []string{tt.password + "x", strings.ToUpper(tt.password) + "!", "", " "} {
				if wrong == tt.password {
					continue
				}
				ok, err := h.Verify(ctx, wrong, enc)
				if err != nil || ok {
					t.Errorf("Verify(%q) = %v, %v; want false", wrong, ok, err)
				}
			}
			// A fresh salt each time.
			enc2, _ := h.Hash(ctx, tt.password)
			if enc2 == enc {
				t.Error("two hashes of one password are equal")
			}
		})
	}
}

// A hash keeps the parameters it was made with: a Hasher with other
// parameters still verifies it.
func TestVerifyOtherParams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	enc, err := New(Params{Time: 2, Memory: 128, Threads: 2, KeyLen: 16, SaltLen: 8}, 1).Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	ok, err := New(cheap, 1).Verify(ctx, "pw", enc)
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
}

func TestMalformedRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := New(cheap, 2)
	good, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"bang (key-only account)", "!"},
		{"plain text", "pw"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"argon2d", with(1, "argon2d")},
		{"other version", with(2, "v=16")},
		{"version missing", with(2, "")},
		{"memory zero", with(3, "m=0,t=1,p=1")},
		{"memory too large", with(3, "m=4194304,t=1,p=1")},
		{"time zero", with(3, "m=64,t=0,p=1")},
		{"time too large", with(3, "m=64,t=1000,p=1")},
		{"threads zero", with(3, "m=64,t=1,p=0")},
		{"threads overflow", with(3, "m=64,t=1,p=300")},
		{"negative", with(3, "m=-64,t=1,p=1")},
		{"params garbage", with(3, "garbage")},
		{"salt not base64", with(4, "!!!")},
		{"key not base64", with(5, "***")},
		{"key empty", with(5, "")},
		{"key too long", with(5, strings.Repeat("A", 100))},
		{"missing part", strings.Join(parts[:5], "$")},
		{"extra part", good + "$x"},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := h.Verify(ctx, "pw", tt.enc)
			if ok {
				t.Fatalf("Verify(%q) = true", tt.enc)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Verify(%q) error %v, want ErrMalformed", tt.enc, err)
			}
		})
	}
}

// A tampered key changes the answer, not the error.
func TestTamperedKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := New(cheap, 1)
	enc, _ := h.Hash(ctx, "pw")
	i := strings.LastIndex(enc, "$") + 1
	c := byte('A')
	if enc[i] == 'A' {
		c = 'B'
	}
	tampered := enc[:i] + string(c) + enc[i+1:]
	ok, err := h.Verify(ctx, "pw", tampered)
	if ok || err != nil {
		t.Fatalf("Verify(tampered) = %v, %v", ok, err)
	}
}

func TestDummyNeverMatches(t *testing.T) {
	t.Parallel()
	h := New(cheap, 1)
	var wg sync.WaitGroup
	for _, pw := range []string{"", "sshelf-dummy", "x"} {
		wg.Add(1)
		go func() { defer wg.Done(); h.Dummy(context.Background(), pw) }()
	}
	wg.Wait()
	if h.dummy == "" {
		t.Fatal("no dummy hash")
	}
	// The dummy exists only to spend time: its answer is never used, but it
	// must hold no slot afterwards.
	if held, waiting := h.queue.state(); held != 0 || waiting != 0 {
		t.Errorf("%d slots held, %d waiting after Dummy", held, waiting)
	}
}

// With every slot taken, Hash and Verify wait for one: a caller whose
// context ends gives up without hashing.
func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	h := New(cheap, 2)
	enc, _ := h.Hash(context.Background(), "pw")
	for range 2 { // all taken
		if err := h.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with no slot and a cancelled context: %v", err)
	}
	if _, err := h.Verify(ctx, "pw", enc); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with no slot and a cancelled context: %v", err)
	}
	// A waiter proceeds once a slot frees.
	done := make(chan error)
	go func() {
		ok, err := h.Verify(context.Background(), "pw", enc)
		if err == nil && !ok {
			err = errors.New("no match")
		}
		done <- err
	}()
	waitFor(t, h, 2, 1)
	h.release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.release()
	if held, waiting := h.queue.state(); held != 0 || waiting != 0 {
		t.Fatalf("%d slots held, %d waiting", held, waiting)
	}

	// Many callers at once: every one answered, no slot leaked, also for
	// callers that give up.
	h = New(cheap, 3)
	var wg sync.WaitGroup
	var answered atomic.Int32
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if i%4 == 0 {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			ok, err := h.Verify(ctx, "pw", enc)
			if err == nil && ok {
				answered.Add(1)
			} else if i%4 != 0 {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		}()
	}
	wg.Wait()
	if n := answered.Load(); n < 30 {
		t.Errorf("%d of 30 callers answered", n)
	}
	if held, waiting := h.queue.state(); held != 0 || waiting != 0 {
		t.Errorf("%d slots held, %d waiting at the end", held, waiting)
	}
}

func TestDefaultConcurrency(t *testing.T) {
	t.Parallel()
	if h := New(cheap, 0); h.queue.size < 1 {
		t.Fatalf("New(_, 0) has %d slots", h.queue.size)
	}
}
