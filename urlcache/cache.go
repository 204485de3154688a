package urlcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/metrics"
)

// Source says where a URL came from.
type Source string

// Sources of a URL.
const (
	FromMemory Source = "memory"
	FromStore  Source = "store"
	FromSigner Source = "signer"
)

// signTimeout bounds the signing work that concurrent callers share, so one
// caller giving up does not fail the others.
const signTimeout = 30 * time.Second

// Result is a URL handed out by the cache.
type Result struct {
	URL       string
	ExpiresAt time.Time
	Headers   map[string]string
	Source    Source

	// Stale marks a cached URL served below the minimum validity because
	// signing a new one failed; it is still valid, for less long.
	Stale bool
}

// SignFunc signs a new URL valid for the given duration.
type SignFunc func(ctx context.Context, validFor time.Duration) (mediasign.SignedURL, error)

// Options configures a Cache.
type Options struct {
	Policy Policy
	Store  mediasign.URLCacheStore
	Clock  mediasign.Clock
	Logger *slog.Logger

	// MemoryEntries bounds the in-process tier; 0 means 100,000.
	MemoryEntries int

	// Shared, when set, is a tier that replicas share, between the
	// in-process tier and the store, whose lock makes replicas sign each
	// URL once.
	Shared SharedTier

	// SharedLock is how long a signing lock lasts unless extended; 0 means
	// DefaultSharedLock.
	SharedLock time.Duration

	Metrics *metrics.Metrics
}

// Cache hands out signed URLs, signing only when no servable one is kept.
type Cache struct {
	policy  Policy
	store   mediasign.URLCacheStore
	clock   mediasign.Clock
	logger  *slog.Logger
	mem     *memTier
	shared  *shared
	group   singleflight.Group
	metrics *metrics.Metrics
}

// New returns a cache over the store in opts.
func New(opts Options) *Cache {
	if opts.MemoryEntries == 0 {
		opts.MemoryEntries = 100_000
	}
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cache{policy: opts.Policy, store: opts.Store, clock: opts.Clock,
		logger: opts.Logger, mem: newMemTier(opts.MemoryEntries), metrics: opts.Metrics}
	if opts.Shared != nil {
		c.shared = newShared(opts.Shared, opts.SharedLock, opts.Clock, opts.Logger, opts.Metrics)
	}
	return c
}

// Policy returns the cache policy in force.
func (c *Cache) Policy() Policy { return c.policy }

// Get returns a servable URL for key: from memory, from the store, or newly
// signed by sign. Concurrent calls for one key sign once.
func (c *Cache) Get(ctx context.Context, key string, sign SignFunc) (Result, error) {
	if r, ok := c.fromMemory(key); ok {
		return r, nil
	}

	ch := c.group.DoChan(key, func() (any, error) {
		shared, cancel := context.WithTimeout(context.WithoutCancel(ctx), signTimeout)
		defer cancel()
		return c.load(shared, key, sign)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return Result{}, res.Err
		}
		return res.Val.(Result), nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

func (c *Cache) fromMemory(key string) (Result, bool) {
	e, ok := c.mem.get(key, c.servableNow)
	if !ok {
		c.metrics.CacheLookup(string(FromMemory), "miss")
		return Result{}, false
	}
	c.metrics.CacheLookup(string(FromMemory), "hit")
	return Result{URL: e.url, ExpiresAt: e.expiresAt, Headers: e.headers, Source: FromMemory}, true
}

func (c *Cache) servableNow(expiresAt time.Time) bool {
	return c.policy.Servable(expiresAt, c.clock.Now())
}

// load looks in the shared tier and the store, and signs when neither
// holds anything servable.
func (c *Cache) load(ctx context.Context, key string, sign SignFunc) (Result, error) {
	// Another caller may have filled the memory tier since this one missed;
	// the miss was counted already.
	if e, ok := c.mem.get(key, c.servableNow); ok {
		return Result{URL: e.url, ExpiresAt: e.expiresAt, Headers: e.headers, Source: FromMemory}, nil
	}
	if r, ok := c.fromShared(ctx, key); ok {
		return r, nil
	}
	if r, ok := c.fromStore(ctx, key); ok {
		c.share(ctx, key, r, c.clock.Now())
		return r, nil
	}
	r, err := c.signOnce(ctx, key, sign, nil)
	if err != nil {
		return c.staleOnError(ctx, key, err)
	}
	return r, nil
}

// signFresh signs a new URL for key and keeps it, leaving its store write
// to p when p is not nil.
func (c *Cache) signFresh(ctx context.Context, key string, sign SignFunc,
	p *pendingWrites) (Result, error) {
	signed, err := sign(ctx, c.policy.NewValid)
	if err != nil {
		return Result{}, err
	}
	if signed.URL == "" || signed.ExpiresAt.IsZero() {
		return Result{}, fmt.Errorf("sign url: signer returned no url or no expiry")
	}

	r := Result{URL: signed.URL, ExpiresAt: signed.ExpiresAt, Headers: signed.Headers,
		Source: FromSigner}
	c.keep(ctx, key, r, p)
	return r, nil
}

func (c *Cache) fromStore(ctx context.Context, key string) (Result, bool) {
	u, err := c.store.CachedURL(ctx, key)
	switch {
	case errors.Is(err, mediasign.ErrNotFound):
		c.metrics.CacheLookup(string(FromStore), "miss")
		return Result{}, false
	case err != nil:
		c.logger.WarnContext(ctx, "read url cache", "error", err)
		c.metrics.CacheLookup(string(FromStore), "error")
		return Result{}, false
	case !c.servableNow(u.ExpiresAt):
		c.metrics.CacheLookup(string(FromStore), "stale")
		return Result{}, false
	}

	c.metrics.CacheLookup(string(FromStore), "hit")
	c.mem.put(memEntry{key: key, url: u.URL, expiresAt: u.ExpiresAt, headers: u.Headers})
	return Result{URL: u.URL, ExpiresAt: u.ExpiresAt, Headers: u.Headers, Source: FromStore}, true
}

// keep stores a new URL in every tier when it is servable at all; the
// store write goes to p instead when p still takes writes. A store failure
// is logged: the URL is still good to hand out.
func (c *Cache) keep(ctx context.Context, key string, r Result, p *pendingWrites) {
	now := c.clock.Now()
	if !c.policy.Servable(r.ExpiresAt, now) {
		// Debug, not warn: with short-lived credentials this happens on every
		// request, and the connection's save already warned.
		c.metrics.CacheLookup(string(FromSigner), "below_minimum")
		c.logger.DebugContext(ctx, "new url is below the minimum validity",
			"valid_seconds", int64(r.ExpiresAt.Sub(now)/time.Second),
			"minimum_seconds", int64(c.policy.MinValid/time.Second))
		return
	}

	c.mem.put(memEntry{key: key, url: r.URL, expiresAt: r.ExpiresAt, headers: r.Headers})
	c.share(ctx, key, r, now)
	u := &mediasign.CachedURL{Key: key, URL: r.URL, ExpiresAt: r.ExpiresAt, Headers: r.Headers,
		CreatedAt: now}
	if p.add(u) {
		return
	}
	if err := c.store.PutCachedURL(ctx, u); err != nil {
		c.logger.WarnContext(ctx, "write url cache", "error", err)
	}
}

// Purge deletes stored entries that have expired. Entries below the
// minimum validity stay until then: they are served only when signing
// fails (see staleOnError).
func (c *Cache) Purge(ctx context.Context) (int64, error) {
	n, err := c.store.DeleteExpiredURLs(ctx, c.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("purge expired urls: %w", err)
	}
	return n, nil
}
