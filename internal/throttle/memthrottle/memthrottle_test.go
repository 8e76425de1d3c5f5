package memthrottle_test

import (
	"testing"

	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/memthrottle"
	"github.com/sshelf/sshelf/internal/throttle/throttletest"
)

// Every handle is the one store: the servers that share a memory store
// are the goroutines of one process.
func TestStore(t *testing.T) {
	t.Parallel()
	throttletest.TestStore(t, func(t *testing.T) func(t *testing.T) throttle.Store {
		s := memthrottle.New()
		return func(*testing.T) throttle.Store { return s }
	})
}
