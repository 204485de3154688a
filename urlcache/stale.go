package urlcache

import (
	"context"
	"time"

	"github.com/mediasign/mediasign"
)

// staleLeft is the least validity a cached URL must have left to be served
// when signing fails: enough for the client to use it.
const staleLeft = time.Minute

// staleOnError answers a failed signing. When the signer failed (it did
// not refuse) and a cached URL for key is still valid, even below the
// minimum validity, it is served and marked Stale; otherwise err is
// returned. Nothing is written: a failure never replaces an entry.
func (c *Cache) staleOnError(ctx context.Context, key string, err error) (Result, error) {
	return c.staleOr(ctx, key, err, c.store.CachedURL)
}

// staleOr is staleOnError with the stored entry of key read by stored.
func (c *Cache) staleOr(ctx context.Context, key string, err error,
	stored func(context.Context, string) (*mediasign.CachedURL, error)) (Result, error) {
	if !signerFailed(err) {
		return Result{}, err
	}
	r, ok := c.lastValid(ctx, key, stored)
	if !ok {
		return Result{}, err
	}

	c.metrics.CacheLookup(string(r.Source), "stale_on_error")
	c.logger.WarnContext(ctx, "signing failed; serving a cached url below the minimum validity",
		"valid_seconds", int64(r.ExpiresAt.Sub(c.clock.Now())/time.Second), "error", err)
	r.Stale = true
	return r, nil
}

// signerFailed reports whether err says the signer could not sign, as
// opposed to refusing or being asked wrongly.
func signerFailed(err error) bool {
	switch mediasign.ErrorCode(err) {
	case mediasign.CodeBadGateway, mediasign.CodeUnavailable:
		return true
	}
	return false
}

// lastValid returns the entry kept for key, from memory or as stored reads
// it, if it has at least staleLeft of validity.
func (c *Cache) lastValid(ctx context.Context, key string,
	stored func(context.Context, string) (*mediasign.CachedURL, error)) (Result, bool) {
	usable := func(exp time.Time) bool { return exp.Sub(c.clock.Now()) >= staleLeft }
	if e, ok := c.mem.peek(key); ok && usable(e.expiresAt) {
		return Result{URL: e.url, ExpiresAt: e.expiresAt, Headers: e.headers,
			Source: FromMemory}, true
	}
	u, err := stored(ctx, key)
	if err != nil || !usable(u.ExpiresAt) {
		return Result{}, false
	}
	return Result{URL: u.URL, ExpiresAt: u.ExpiresAt, Headers: u.Headers, Source: FromStore}, true
}
