package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not record the argon2id parameters", h)
	}
	if ok, err := VerifyPassword(h, "correct horse battery"); !ok || err != nil {
		t.Fatalf("right password refused: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword(h, "correct horse batterY"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=1,t=1,p=1$!!$!!", "$bcrypt$x$y$z$w"} {
		if ok, err := VerifyPassword(bad, "x"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", bad, ok, err)
		}
	}
}

func TestTokens(t *testing.T) {
	a, ha := NewToken()
	b, _ := NewToken()
	if a == b || len(a) != 43 {
		t.Fatalf("tokens %q %q: want distinct 43-character tokens", a, b)
	}
	if string(HashToken(a)) != string(ha) || len(ha) != 32 {
		t.Fatal("HashToken does not reproduce the stored hash")
	}
}

func TestThrottleDecide(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	p := DefaultThrottle
	ago := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	fails := func(email, addr string, minutesAgo ...int) []Failure {
		var out []Failure
		for _, m := range minutesAgo {
			out = append(out, Failure{email, addr, ago(m)})
		}
		return out
	}
	join := func(ls ...[]Failure) []Failure {
		var out []Failure
		for _, l := range ls {
			out = append(out, l...)
		}
		return out
	}
	const me, ip = "pat@example.com", "10.0.0.1"
	tests := []struct {
		name       string
		failures   []Failure
		delay      time.Duration
		refuse     bool
		retryAfter time.Duration
	}{
		{"no failures", nil, 0, false, 0},
		{"two failures: no delay", fails(me, ip, 1, 2), 0, false, 0},
		{"three failures: slowed 1s", fails(me, ip, 1, 2, 3), time.Second, false, 0},
		{"four failures: slowed 2s", fails(me, ip, 1, 2, 3, 4), 2 * time.Second, false, 0},
		{"five from one address: refused until the oldest ages out", fails(me, ip, 1, 2, 3, 4, 10), 0, true, 5 * time.Minute},
		{"old failures do not count", fails(me, ip, 16, 20, 30, 40, 50), 0, false, 0},
		{"other addresses: slowed, not refused by the pair limit",
			join(fails(me, "10.0.0.2", 1, 2, 3), fails(me, "10.0.0.3", 1, 2, 3)), 8 * time.Second, false, 0},
		{"ten for the account from anywhere: refused",
			join(fails(me, "10.0.0.2", 1, 2, 3, 4), fails(me, "10.0.0.3", 1, 2, 3, 4), fails(me, "10.0.0.4", 1, 14)), 0, true, time.Minute},
		{"twenty from one address over many accounts: refused",
			func() []Failure {
				var out []Failure
				for i := range 20 {
					out = append(out, Failure{string(rune('a'+i)) + "@example.com", ip, ago(1)})
				}
				return out
			}(), 0, true, 14 * time.Minute},
		{"another account's failures elsewhere are ignored", fails("x@example.com", "10.9.9.9", 1, 2, 3, 4, 5, 6), 0, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(now, me, ip, tt.failures)
			if d.Refuse != tt.refuse || d.Delay != tt.delay || d.RetryAfter != tt.retryAfter {
				t.Errorf("Decide = %+v; want refuse=%v delay=%v retryAfter=%v", d, tt.refuse, tt.delay, tt.retryAfter)
			}
		})
	}
}
