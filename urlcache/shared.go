package urlcache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/metrics"
)

// FromShared is the source of a URL found in the tier that replicas share.
const FromShared Source = "shared"

// SharedTier is a URL cache tier that several replicas share, with the
// lock that lets one of them sign a URL while the others wait for it. An
// error means the tier cannot be reached; the cache then works without it
// until it answers again.
type SharedTier interface {
	// Get returns the entry for key, or nil when there is none.
	Get(ctx context.Context, key string) (*mediasign.CachedURL, error)

	// Put keeps u under u.Key for ttl, and no longer.
	Put(ctx context.Context, u *mediasign.CachedURL, ttl time.Duration) error

	// Lock takes the signing lock of key for ttl unless another holder has
	// it, and returns the token that proves the holding.
	Lock(ctx context.Context, key string, ttl time.Duration) (token string, ok bool, err error)

	// Extend keeps the lock for ttl more while token holds it, and reports
	// whether it still does.
	Extend(ctx context.Context, key, token string, ttl time.Duration) (bool, error)

	// Unlock frees the lock of key if token holds it.
	Unlock(ctx context.Context, key, token string) error

	// Ping checks that the tier answers.
	Ping(ctx context.Context) error
}

// Defaults of the shared tier.
const (
	// DefaultSharedLock is how long a signing lock lasts unless its holder
	// extends it: a replica that dies while signing holds others up at
	// most this long.
	DefaultSharedLock = 10 * time.Second

	// sharedRetry is how often an unreachable shared tier is tried again.
	sharedRetry = 2 * time.Second

	// Waiting replicas look for the holder's entry after pollFirst, then
	// twice as long each time, up to pollMax.
	pollFirst = 2 * time.Millisecond
	pollMax   = 50 * time.Millisecond

	// sharedCallTimeout bounds the calls made outside a request: probes
	// and unlocks.
	sharedCallTimeout = 2 * time.Second
)

// errSharedDown says the shared tier is being skipped after a failure.
var errSharedDown = errors.New("shared url cache is unreachable")

// shared tracks whether the shared tier answers, so that an outage costs
// one failed call and one log line rather than one of each per request.
type shared struct {
	tier    SharedTier
	lockTTL time.Duration
	clock   mediasign.Clock
	logger  *slog.Logger
	metrics *metrics.Metrics

	up      atomic.Bool
	probing atomic.Bool

	mu        sync.Mutex
	lastProbe time.Time
}

func newShared(tier SharedTier, lockTTL time.Duration, clock mediasign.Clock,
	logger *slog.Logger, m *metrics.Metrics) *shared {
	if lockTTL <= 0 {
		lockTTL = DefaultSharedLock
	}
	s := &shared{tier: tier, lockTTL: lockTTL, clock: clock, logger: logger, metrics: m}
	s.up.Store(true)
	m.SharedUp(true)
	return s
}

// usable reports whether to use the tier now. While it is down, it starts a
// probe in the background now and then, and answers false.
func (s *shared) usable() bool {
	if s.up.Load() {
		return true
	}
	s.maybeProbe()
	return false
}

func (s *shared) maybeProbe() {
	s.mu.Lock()
	due := s.clock.Now().Sub(s.lastProbe) >= sharedRetry
	if due {
		s.lastProbe = s.clock.Now()
	}
	s.mu.Unlock()
	if !due || !s.probing.CompareAndSwap(false, true) {
		return
	}

	go func() {
		defer s.probing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
		defer cancel()
		_ = s.check(ctx)
	}()
}

// check pings the tier and records the answer.
func (s *shared) check(ctx context.Context) error {
	if err := s.tier.Ping(ctx); err != nil {
		s.failed(ctx, "ping", err)
		return err
	}
	if s.up.CompareAndSwap(false, true) {
		s.logger.InfoContext(ctx, "shared url cache is reachable again")
		s.metrics.SharedUp(true)
	}
	return nil
}

// failed records a failed call. The first failure of an outage logs it;
// the next ones only count.
func (s *shared) failed(ctx context.Context, op string, err error) {
	if ctx.Err() != nil {
		// The caller gave up; that says nothing about the tier.
		return
	}
	s.metrics.SharedError(op)
	if !s.up.CompareAndSwap(true, false) {
		return
	}

	s.mu.Lock()
	s.lastProbe = s.clock.Now()
	s.mu.Unlock()
	s.metrics.SharedUp(false)
	s.logger.WarnContext(ctx, "shared url cache is unreachable: serving from this "+
		"replica's memory and the database until it answers", "op", op, "error", err)
}

// hold keeps the lock of key while the returned release is not called, and
// frees it on release.
func (s *shared) hold(ctx context.Context, key, token string) (release func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(s.lockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if ok, err := s.tier.Extend(ctx, key, token, s.lockTTL); err != nil || !ok {
				if err != nil {
					s.failed(ctx, "extend", err)
				}
				return
			}
		}
	}()

	return func() {
		close(done)
		<-stopped
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCallTimeout)
		defer cancel()
		if err := s.tier.Unlock(uctx, key, token); err != nil {
			s.failed(uctx, "unlock", err)
		}
	}
}

// CheckShared pings the shared tier, for readiness. It reports whether the
// cache has one at all; an error means it is unreachable and the cache
// works without it.
func (c *Cache) CheckShared(ctx context.Context) (configured bool, err error) {
	if c.shared == nil {
		return false, nil
	}
	return true, c.shared.check(ctx)
}

// maxClockSkew is how far the clocks of two replicas may differ.
const maxClockSkew = time.Minute

// sharedEntry reads key from the shared tier without counting the lookup.
func (c *Cache) sharedEntry(ctx context.Context, key string) (Result, bool, error) {
	if c.shared == nil || !c.shared.usable() {
		return Result{}, false, errSharedDown
	}
	u, err := c.shared.tier.Get(ctx, key)
	if err != nil {
		c.shared.failed(ctx, "get", err)
		return Result{}, false, err
	}
	if u == nil || !c.servableNow(u.ExpiresAt) {
		return Result{}, false, nil
	}
	if now := c.clock.Now(); u.ExpiresAt.After(now.Add(c.policy.NewValid + maxClockSkew)) {
		// No URL this installation signs lives longer than N: the entry
		// is not honest.
		return Result{}, false, nil
	}

	c.mem.put(memEntry{key: key, url: u.URL, expiresAt: u.ExpiresAt, headers: u.Headers})
	return Result{URL: u.URL, ExpiresAt: u.ExpiresAt, Headers: u.Headers, Source: FromShared},
		true, nil
}

// fromShared looks key up in the shared tier.
func (c *Cache) fromShared(ctx context.Context, key string) (Result, bool) {
	if c.shared == nil || !c.shared.usable() {
		return Result{}, false
	}
	r, ok, err := c.sharedEntry(ctx, key)
	switch {
	case err != nil:
		c.metrics.CacheLookup(string(FromShared), "error")
	case !ok:
		c.metrics.CacheLookup(string(FromShared), "miss")
	default:
		c.metrics.CacheLookup(string(FromShared), "hit")
	}
	return r, ok
}

// share puts a URL into the shared tier until its safe deadline, expires_at
// minus the minimum validity, and never later.
func (c *Cache) share(ctx context.Context, key string, r Result, now time.Time) {
	if c.shared == nil || !c.shared.usable() {
		return
	}
	// Rounded down to what the tier can express, so it can only end early.
	ttl := c.policy.SafeFor(r.ExpiresAt, now).Truncate(time.Millisecond)
	if ttl <= 0 {
		return
	}

	u := &mediasign.CachedURL{Key: key, URL: r.URL, ExpiresAt: r.ExpiresAt,
		Headers: r.Headers, CreatedAt: now}
	if err := c.shared.tier.Put(ctx, u, ttl); err != nil {
		c.shared.failed(ctx, "put", err)
	}
}

// signOnce signs key once across the replicas that share the tier: the
// replica that takes the lock signs and the others wait for its entry. A
// holder that fails or dies lets go of the lock, and a waiter takes over.
// Without a reachable shared tier this replica signs by itself.
func (c *Cache) signOnce(ctx context.Context, key string, sign SignFunc,
	p *pendingWrites) (Result, error) {
	delay := pollFirst
	waited := false
	for c.shared != nil && c.shared.usable() {
		token, ok, err := c.shared.tier.Lock(ctx, key, c.shared.lockTTL)
		if err != nil {
			c.shared.failed(ctx, "lock", err)
			break
		}
		if ok {
			if waited {
				c.metrics.SharedWait("took_over")
			}
			return c.signHolding(ctx, key, token, sign, p)
		}

		waited = true
		if err := sleep(ctx, delay); err != nil {
			c.metrics.SharedWait("gave_up")
			return Result{}, err
		}
		delay = min(delay*2, pollMax)
		if r, ok, _ := c.sharedEntry(ctx, key); ok {
			c.metrics.SharedWait("filled")
			return r, nil
		}
	}
	return c.signFresh(ctx, key, sign, p)
}

// signHolding signs key while holding its lock.
func (c *Cache) signHolding(ctx context.Context, key, token string, sign SignFunc,
	p *pendingWrites) (Result, error) {
	release := c.shared.hold(ctx, key, token)
	defer release()

	// Another replica may have signed between this one's miss and its lock.
	if r, ok, _ := c.sharedEntry(ctx, key); ok {
		return r, nil
	}
	return c.signFresh(ctx, key, sign, p)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
