package urlcache

import (
	"context"
	"sync"
	"time"

	"github.com/mediasign/mediasign"
)

// GetMany resolves each of keys as Get would, and returns the result or
// the error of each: a failure touches only its own key. It reads the
// memory tier key by key, then the shared tier for the misses, then the
// store in one call for the keys still missing; it signs the rest, at most
// workers at a time, through the same per-key coalescing as Get, and
// writes the new URLs to the store in one call before it returns. sign
// gets the position of the first occurrence of a key; a key given twice
// is resolved once.
func (c *Cache) GetMany(ctx context.Context, keys []string, workers int,
	sign BatchSignFunc) ([]Result, []error) {
	out := make([]Result, len(keys))
	errs := make([]error, len(keys))
	first, uniq := firstOccurrences(keys)

	var missing []int
	for _, i := range uniq {
		r, ok := c.fromMemory(keys[i])
		if !ok {
			missing = append(missing, i)
			continue
		}
		out[i] = r
	}
	missing = c.manyFromShared(ctx, keys, missing, workers, out)
	now := c.clock.Now()
	stored, missing := c.fromStoreBatch(ctx, keys, missing,
		func(exp time.Time) bool { return c.policy.Servable(exp, now) },
		func(i int, u *mediasign.CachedURL) {
			c.mem.put(memEntry{key: u.Key, url: u.URL, expiresAt: u.ExpiresAt, headers: u.Headers})
			out[i] = Result{URL: u.URL, ExpiresAt: u.ExpiresAt, Headers: u.Headers, Source: FromStore}
			c.share(ctx, u.Key, out[i], now)
		})
	c.signMany(ctx, keys, missing, workers, sign, stored, out, errs)

	for i, k := range keys {
		if j := first[k]; j != i {
			out[i], errs[i] = out[j], errs[j]
		}
	}
	return out, errs
}

// firstOccurrences maps each key to its first position, and lists those
// positions in order.
func firstOccurrences(keys []string) (map[string]int, []int) {
	first := make(map[string]int, len(keys))
	uniq := make([]int, 0, len(keys))
	for i, k := range keys {
		if _, ok := first[k]; !ok {
			first[k] = i
			uniq = append(uniq, i)
		}
	}
	return first, uniq
}

// manyFromShared fills the results of positions missing that the shared
// tier holds, and returns the positions still missing.
//
// TODO: the shared tier is read key by key, up to workers at a time; a
// pipelined read of all the keys would save round trips to Redis.
func (c *Cache) manyFromShared(ctx context.Context, keys []string, missing []int, workers int,
	out []Result) []int {
	if len(missing) == 0 || c.shared == nil || !c.shared.usable() {
		return missing
	}
	found := make([]bool, len(missing))
	forEach(len(missing), workers, func(n int) {
		i := missing[n]
		out[i], found[n] = c.fromShared(ctx, keys[i])
	})

	still := missing[:0]
	for n, i := range missing {
		if !found[n] {
			still = append(still, i)
		}
	}
	return still
}

// signMany signs the keys at positions missing, at most workers at a time,
// each through the per-key coalescing of Get, and writes the new URLs of
// the signings this call started to the store in one call. stored holds
// the entries read before, for serving a stale one when signing fails.
func (c *Cache) signMany(ctx context.Context, keys []string, missing []int, workers int,
	sign BatchSignFunc, stored map[string]*mediasign.CachedURL, out []Result, errs []error) {
	if len(missing) == 0 {
		return
	}
	lookup := func(_ context.Context, key string) (*mediasign.CachedURL, error) {
		if u, ok := stored[key]; ok {
			return u, nil
		}
		return nil, mediasign.ErrNotFound
	}

	p := &pendingWrites{}
	forEach(len(missing), workers, func(n int) {
		i := missing[n]
		one := func(ctx context.Context, validFor time.Duration) (mediasign.SignedURL, error) {
			return sign(ctx, i, validFor)
		}
		out[i], errs[i] = c.coalesced(ctx, keys[i], func(ctx context.Context) (Result, error) {
			return c.signMissing(ctx, keys[i], one, lookup, p)
		})
	})

	us := p.take()
	if len(us) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signTimeout)
	defer cancel()
	if err := c.putURLs(wctx, us); err != nil {
		c.logger.WarnContext(ctx, "write url cache batch", "error", err, "urls", len(us))
	}
}

// coalesced runs load for key once for all concurrent callers, Get's
// among them, under a context that outlives any one of them for at most
// signTimeout.
func (c *Cache) coalesced(ctx context.Context, key string,
	load func(context.Context) (Result, error)) (Result, error) {
	ch := c.group.DoChan(key, func() (any, error) {
		shared, cancel := context.WithTimeout(context.WithoutCancel(ctx), signTimeout)
		defer cancel()
		return load(shared)
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

// signMissing is load for a key that the shared tier and the store were
// read for already: it signs unless memory got the key meanwhile, and
// serves a stale entry when the signer fails.
func (c *Cache) signMissing(ctx context.Context, key string, sign SignFunc,
	stored func(context.Context, string) (*mediasign.CachedURL, error),
	p *pendingWrites) (Result, error) {
	if e, ok := c.mem.get(key, c.servableNow); ok {
		return Result{URL: e.url, ExpiresAt: e.expiresAt, Headers: e.headers, Source: FromMemory}, nil
	}
	r, err := c.signOnce(ctx, key, sign, p)
	if err != nil {
		return c.staleOr(ctx, key, err, stored)
	}
	return r, nil
}

// forEach calls f(0) to f(n-1), at most workers at a time, and waits.
func forEach(n, workers int, f func(int)) {
	workers = max(min(workers, n), 1)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// pendingWrites collects the store writes of one batch until it takes
// them; writes that come later, from signings that outlived their caller,
// are made one by one.
type pendingWrites struct {
	mu    sync.Mutex
	urls  []*mediasign.CachedURL
	taken bool
}

// add collects u and reports whether it did; a nil p collects nothing.
func (p *pendingWrites) add(u *mediasign.CachedURL) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.taken {
		return false
	}
	p.urls = append(p.urls, u)
	return true
}

// take returns the collected writes and collects no more.
func (p *pendingWrites) take() []*mediasign.CachedURL {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.taken = true
	return p.urls
}
