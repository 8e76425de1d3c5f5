package files

import "sync"

// pendingBytes counts, per account, the quota its open uploads hold: the
// bytes each would add to the account's usage if it committed now. Uploads
// running at once then share the room the quota leaves instead of each
// having all of it, and none grows past it (Commit still checks the
// catalog's usage, which also sees other servers' uploads).
type pendingBytes struct {
	mu sync.Mutex
	by map[string]int64 // account: bytes held; absent when none
}

// claim moves one upload's hold for user from held to want bytes (want may
// be negative: an upload smaller than the file it replaces). It refuses if
// the account's other uploads and want together exceed free, the room the
// quota left when the upload started; shrinking is always allowed. It
// returns the hold now recorded for the upload.
func (p *pendingBytes) claim(user string, held, want, free int64) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	others := p.by[user] - held
	// others + want > free, written so that it cannot overflow: both
	// sides are sums of sizes that each fit an int64.
	if want > held && want > free-others {
		return held, false
	}
	hold := max(want, 0) // a shrinking replace frees nothing until it commits
	if total := others + hold; total > 0 {
		if p.by == nil {
			p.by = make(map[string]int64)
		}
		p.by[user] = total
	} else {
		delete(p.by, user)
	}
	return hold, true
}

// held returns the bytes user's open uploads hold, for tests.
func (p *pendingBytes) held(user string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.by[user]
}
