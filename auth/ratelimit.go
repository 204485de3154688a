package auth

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginLimits bound sign-in attempts. Each attempt, right or wrong, takes
// one token from the bucket of its client address and one from the bucket
// of the user name it names.
type LoginLimits struct {
	// PerUser and UserBurst limit attempts for one user name.
	PerUser   rate.Limit
	UserBurst int

	// PerAddress and AddressBurst limit attempts from one client address
	// (an IPv6 client's /64 network).
	PerAddress   rate.Limit
	AddressBurst int

	// MaxKeys bounds the user names and addresses tracked at once.
	MaxKeys int
}

// DefaultLoginLimits allow 10 quick attempts per user name, then one every
// 30 seconds, and 30 per address, then one every 2 seconds.
var DefaultLoginLimits = LoginLimits{PerUser: rate.Every(30 * time.Second), UserBurst: 10,
	PerAddress: rate.Every(2 * time.Second), AddressBurst: 30, MaxKeys: 100_000}

// RateLimitError refuses a request that came too soon; the client may try
// again after RetryAfter.
type RateLimitError struct {
	RetryAfter time.Duration
	what       string
}

// Error says what was limited and when to try again.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many sign-in attempts for this %s: try again in %d seconds",
		e.what, e.Seconds())
}

// Seconds returns RetryAfter in whole seconds, at least one.
func (e *RateLimitError) Seconds() int64 {
	return max(1, int64((e.RetryAfter+time.Second-1)/time.Second))
}

// buckets is a set of token buckets by key, bounded in size.
type buckets struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	max   int
	what  string
	byKey map[string]*rate.Limiter
}

func newBuckets(limit rate.Limit, burst, maxKeys int, what string) *buckets {
	return &buckets{limit: limit, burst: burst, max: maxKeys, what: what,
		byKey: make(map[string]*rate.Limiter)}
}

// take takes a token for key at now, or says how long until one is there.
func (b *buckets) take(key string, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()

	lim, ok := b.byKey[key]
	if !ok {
		if len(b.byKey) >= b.max && !b.sweep(now) {
			return &RateLimitError{RetryAfter: time.Minute, what: b.what}
		}
		lim = rate.NewLimiter(b.limit, b.burst)
		b.byKey[key] = lim
	}

	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return &RateLimitError{RetryAfter: time.Minute, what: b.what}
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &RateLimitError{RetryAfter: d, what: b.what}
	}
	return nil
}

// sweep forgets the buckets that are full again and reports whether room
// was made.
func (b *buckets) sweep(now time.Time) bool {
	for k, lim := range b.byKey {
		if lim.TokensAt(now) >= float64(b.burst) {
			delete(b.byKey, k)
		}
	}
	return len(b.byKey) < b.max
}

// loginLimiter applies LoginLimits.
type loginLimiter struct {
	users, addrs *buckets
}

func newLoginLimiter(l LoginLimits) *loginLimiter {
	if l.UserBurst == 0 || l.AddressBurst == 0 {
		l = DefaultLoginLimits
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = DefaultLoginLimits.MaxKeys
	}
	return &loginLimiter{
		users: newBuckets(l.PerUser, l.UserBurst, l.MaxKeys, "user name"),
		addrs: newBuckets(l.PerAddress, l.AddressBurst, l.MaxKeys, "client address"),
	}
}

// allow takes a token for the client address of r and for a user name key.
func (l *loginLimiter) allow(r *http.Request, userKey string, now time.Time) error {
	if err := l.addrs.take(clientAddress(r), now); err != nil {
		return err
	}
	return l.users.take(userKey, now)
}

// clientAddress returns the address a request came from: the peer's IP, or
// for IPv6 its /64 network, which one client usually holds whole.
//
// TODO: Behind a reverse proxy every request comes from the proxy; a setting
// that names trusted proxies would let the limit read X-Forwarded-For.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
