package sshd

// counter counts holders per key, for the connection and session limits;
// a key whose count falls to zero is forgotten, so the map holds only the
// keys in use. Its owner's mutex guards it.
type counter map[string]int

func (c counter) add(k string) { c[k]++ }

func (c counter) done(k string) {
	if c[k]--; c[k] <= 0 {
		delete(c, k)
	}
}

// full reports whether k holds bound or more; bound 0 is none.
func (c counter) full(k string, bound int) bool { return atLimit(c[k], bound) }

// atLimit reports whether n has reached bound; bound 0 is none.
func atLimit(n, bound int) bool { return bound > 0 && n >= bound }
