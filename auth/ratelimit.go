package auth

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
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
	trusted      []netip.Prefix
}

func newLoginLimiter(l LoginLimits, trusted []netip.Prefix) *loginLimiter {
	if l.UserBurst == 0 || l.AddressBurst == 0 {
		l = DefaultLoginLimits
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = DefaultLoginLimits.MaxKeys
	}
	return &loginLimiter{
		users:   newBuckets(l.PerUser, l.UserBurst, l.MaxKeys, "user name"),
		addrs:   newBuckets(l.PerAddress, l.AddressBurst, l.MaxKeys, "client address"),
		trusted: trusted,
	}
}

// allow takes a token for the client address of r and for a user name key.
func (l *loginLimiter) allow(r *http.Request, userKey string, now time.Time) error {
	if err := l.addrs.take(l.address(r), now); err != nil {
		return err
	}
	return l.users.take(userKey, now)
}

// address returns the client address of r as the limit counts it: the
// client's IP, or for IPv6 its /64 network, which one client usually holds
// whole.
func (l *loginLimiter) address(r *http.Request) string {
	ip, ok := ClientIP(r, l.trusted)
	if !ok {
		return r.RemoteAddr
	}
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

// ClientIP returns the IP address of the client that sent r. It is the
// peer's address, unless the peer is one of the trusted proxies: then the
// X-Forwarded-For header is read from the right, past every trusted proxy,
// and the first address not trusted is the client. An entry that is not an
// address ends the walk at the last trusted hop, so a client cannot choose
// the address it is counted under. ok is false when the peer address does
// not parse.
func ClientIP(r *http.Request, trusted []netip.Prefix) (ip netip.Addr, ok bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		addr, err := netip.ParseAddr(r.RemoteAddr)
		if err != nil {
			return netip.Addr{}, false
		}
		peer = netip.AddrPortFrom(addr, 0)
	}
	ip = peer.Addr().Unmap()
	if !isTrusted(ip, trusted) {
		return ip, true
	}

	hops := forwardedFor(r)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(hops[i])
		if err != nil {
			return ip, true
		}
		ip = hop.Unmap()
		if !isTrusted(ip, trusted) {
			return ip, true
		}
	}
	return ip, true
}

// forwardedFor returns the entries of every X-Forwarded-For header of r, in
// order.
func forwardedFor(r *http.Request) []string {
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, part := range strings.Split(h, ",") {
			hops = append(hops, strings.TrimSpace(part))
		}
	}
	return hops
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
