package auth

import (
	"sort"
	"time"
)

// Failure is one failed sign-in: the email tried and the client address.
type Failure struct {
	Email   string
	Address string
	At      time.Time
}

// Throttle is the policy for repeated failed sign-ins. Counting is over a
// sliding window. After SlowAfter failures for an account or an address each
// further attempt waits (Delay, doubling, at most MaxDelay). Refusal comes at
// PairLimit failures for one account from one address (stops a single
// attacker without touching the real person elsewhere), AccountLimit for an
// account from anywhere, and AddressLimit for an address over any accounts.
// A refusal lasts only until enough failures leave the window — never longer
// than Window — so an attacker cannot lock a person out for long; refused
// attempts are not counted.
type Throttle struct {
	Window       time.Duration
	SlowAfter    int
	Delay        time.Duration
	MaxDelay     time.Duration
	PairLimit    int
	AccountLimit int
	AddressLimit int
}

// DefaultThrottle is the production policy.
var DefaultThrottle = Throttle{
	Window:       15 * time.Minute,
	SlowAfter:    3,
	Delay:        time.Second,
	MaxDelay:     8 * time.Second,
	PairLimit:    5,
	AccountLimit: 10,
	AddressLimit: 20,
}

// Decision is what to do with a sign-in attempt before checking its password.
type Decision struct {
	Delay      time.Duration // wait this long before answering
	Refuse     bool          // refuse without checking the password
	RetryAfter time.Duration // when refused: how long until an attempt is allowed
}

// Decide applies the policy to the recent failures that involve email or
// address (failures outside the window are ignored).
func (p Throttle) Decide(now time.Time, email, address string, failures []Failure) Decision {
	var account, addr, pair []time.Time
	for _, f := range failures {
		if !f.At.After(now.Add(-p.Window)) {
			continue
		}
		if f.Email == email {
			account = append(account, f.At)
		}
		if f.Address == address {
			addr = append(addr, f.At)
		}
		if f.Email == email && f.Address == address {
			pair = append(pair, f.At)
		}
	}

	var d Decision
	for _, c := range []struct {
		times []time.Time
		limit int
	}{{pair, p.PairLimit}, {account, p.AccountLimit}, {addr, p.AddressLimit}} {
		if wait, refused := p.refusal(now, c.times, c.limit); refused {
			d.Refuse = true
			d.RetryAfter = max(d.RetryAfter, wait)
		}
	}
	if d.Refuse {
		return d
	}
	if n := max(len(account), len(addr)); n >= p.SlowAfter && p.Delay > 0 {
		d.Delay = p.Delay
		for i := p.SlowAfter; i < n && d.Delay < p.MaxDelay; i++ {
			d.Delay *= 2
		}
		d.Delay = min(d.Delay, p.MaxDelay)
	}
	return d
}

// refusal reports whether len(times) reached limit, and if so how long until
// enough of them leave the window for the count to fall below the limit.
func (p Throttle) refusal(now time.Time, times []time.Time, limit int) (time.Duration, bool) {
	if limit <= 0 || len(times) < limit {
		return 0, false
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	// Once the oldest len-limit+1 failures have aged out, limit-1 remain.
	freedAt := times[len(times)-limit].Add(p.Window)
	return max(freedAt.Sub(now), time.Second), true
}
