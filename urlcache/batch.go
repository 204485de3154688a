package urlcache

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mediasign/mediasign"
)

// keeperQueue is how many batches of new URLs may wait for the database;
// a caller that gets further ahead waits, which bounds the memory held.
const keeperQueue = 2

// BatchSignFunc signs a new URL for the i-th key of a batch, valid for
// validFor.
type BatchSignFunc func(ctx context.Context, i int, validFor time.Duration) (mediasign.SignedURL, error)

// ShortURLError reports a new URL that expires before the time a batch
// needs, because the provider's limit or the credentials' expiry cut it
// short. Signing it again would not help.
type ShortURLError struct {
	// Index is the position of the URL in its batch.
	Index     int
	ExpiresAt time.Time
	AtLeast   time.Time
}

// Error says what fell short and by how much.
func (e *ShortURLError) Error() string {
	return fmt.Sprintf("a new URL expires at %s, %d s before %s, the time it must stay valid "+
		"until: the provider's limit or the credentials' expiry cut it short",
		e.ExpiresAt.UTC().Format(time.RFC3339), int64(e.AtLeast.Sub(e.ExpiresAt)/time.Second),
		e.AtLeast.UTC().Format(time.RFC3339))
}

// BatchOptions says how GetBatch resolves a batch.
type BatchOptions struct {
	// AtLeast is when the URLs must still be valid: cached URLs that expire
	// sooner are signed again.
	AtLeast time.Time

	// Store looks in the persistent tier too, after the memory tier. A
	// database lookup costs about as much as mediasign's own presign, so
	// it pays off where signing is a network call.
	Store bool
}

// GetBatch puts in out[i] a URL for keys[i] that is servable and valid
// until opts.AtLeast at the earliest: from memory, from the store (read in
// batches) when opts.Store says so, or newly signed by sign. A batch
// touches neither the order nor the contents of the memory tier, so a
// large one does not push out what pages need, and it keeps nothing: new
// URLs come back with Source FromSigner, for a Keeper. GetBatch stops at
// the first signing error.
func (c *Cache) GetBatch(ctx context.Context, keys []string, opts BatchOptions,
	sign BatchSignFunc, out []Result) error {
	if len(out) != len(keys) {
		return fmt.Errorf("get url batch: %d results for %d keys", len(out), len(keys))
	}
	now := c.clock.Now()
	enough := func(exp time.Time) bool {
		return c.policy.Servable(exp, now) && !exp.Before(opts.AtLeast)
	}

	missing := c.batchFromMemory(keys, enough, out)
	if opts.Store {
		_, missing = c.fromStoreBatch(ctx, keys, missing, enough,
			func(i int, u *mediasign.CachedURL) {
				out[i] = Result{URL: u.URL, ExpiresAt: u.ExpiresAt, Headers: u.Headers, Source: FromStore}
			})
	}
	for _, i := range missing {
		r, err := c.signNew(ctx, i, opts.AtLeast, sign)
		if err != nil {
			return err
		}
		out[i] = r
	}
	return nil
}

// batchFromMemory fills the results the memory tier holds and returns the
// positions it did not fill.
func (c *Cache) batchFromMemory(keys []string, enough func(time.Time) bool, out []Result) []int {
	var missing []int
	for i, k := range keys {
		e, ok := c.mem.peek(k)
		if !ok || !enough(e.expiresAt) {
			c.metrics.CacheLookup(string(FromMemory), "miss")
			missing = append(missing, i)
			continue
		}
		c.metrics.CacheLookup(string(FromMemory), "hit")
		out[i] = Result{URL: e.url, ExpiresAt: e.expiresAt, Headers: e.headers, Source: FromMemory}
	}
	return missing
}

// fromStoreBatch reads the entries of the keys at positions missing with one
// store call, hands each entry that is enough to hit, and returns the
// entries read and the positions still missing. A read failure is logged
// and counts as a miss for every key: the URLs are signed instead.
func (c *Cache) fromStoreBatch(ctx context.Context, keys []string, missing []int,
	enough func(time.Time) bool,
	hit func(i int, u *mediasign.CachedURL)) (map[string]*mediasign.CachedURL, []int) {
	if len(missing) == 0 {
		return nil, nil
	}
	found, err := c.storedURLs(ctx, keys, missing)
	if err != nil {
		c.logger.WarnContext(ctx, "read url cache batch", "error", err)
		for range missing {
			c.metrics.CacheLookup(string(FromStore), "error")
		}
		return nil, missing
	}

	still := missing[:0]
	for _, i := range missing {
		u, ok := found[keys[i]]
		switch {
		case !ok:
			c.metrics.CacheLookup(string(FromStore), "miss")
		case !enough(u.ExpiresAt):
			c.metrics.CacheLookup(string(FromStore), "stale")
		default:
			c.metrics.CacheLookup(string(FromStore), "hit")
			hit(i, u)
			continue
		}
		still = append(still, i)
	}
	return found, still
}

// storedURLs reads the entries of the keys at positions idx, in one call
// when the store can.
func (c *Cache) storedURLs(ctx context.Context, keys []string,
	idx []int) (map[string]*mediasign.CachedURL, error) {
	want := make([]string, len(idx))
	for n, i := range idx {
		want[n] = keys[i]
	}
	found := make(map[string]*mediasign.CachedURL, len(want))

	if bs, ok := c.store.(mediasign.URLCacheBatchStore); ok {
		us, err := bs.CachedURLs(ctx, want)
		for _, u := range us {
			found[u.Key] = u
		}
		return found, err
	}
	for _, k := range want {
		u, err := c.store.CachedURL(ctx, k)
		if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		found[k] = u
	}
	return found, nil
}

// signNew signs the i-th URL of a batch and checks that it lasts long
// enough.
func (c *Cache) signNew(ctx context.Context, i int, atLeast time.Time,
	sign BatchSignFunc) (Result, error) {
	signed, err := sign(ctx, i, c.policy.NewValid)
	if err != nil {
		return Result{}, err
	}
	if signed.URL == "" || signed.ExpiresAt.IsZero() {
		return Result{}, fmt.Errorf("sign url: signer returned no url or no expiry")
	}
	if signed.ExpiresAt.Before(atLeast) {
		return Result{}, &ShortURLError{Index: i, ExpiresAt: signed.ExpiresAt, AtLeast: atLeast}
	}
	return Result{URL: signed.URL, ExpiresAt: signed.ExpiresAt, Headers: signed.Headers,
		Source: FromSigner}, nil
}

// peek returns the entry for key without touching the eviction order and
// without dropping it.
func (m *memTier) peek(key string) (memEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()

	el, ok := m.items[key]
	if !ok {
		return memEntry{}, false
	}
	return *el.Value.(*memEntry), true
}

// Keeper writes the new URLs of batches to the persistent tier, one write
// at a time behind its callers, so signing goes on while the database
// writes. Like single lookups, it keeps only URLs that are servable, and a
// failed write is logged: the URLs are still good to hand out.
type Keeper struct {
	c      *Cache
	ctx    context.Context
	queue  chan []*mediasign.CachedURL
	done   chan struct{}
	kept   atomic.Int64
	closed bool
}

// NewKeeper starts a keeper whose writes run under ctx. The caller must
// Close it.
func (c *Cache) NewKeeper(ctx context.Context) *Keeper {
	k := &Keeper{c: c, ctx: context.WithoutCancel(ctx),
		queue: make(chan []*mediasign.CachedURL, keeperQueue), done: make(chan struct{})}
	go k.run(ctx)
	return k
}

// Keep queues the URLs of results that were newly signed, under their
// keys. It waits while earlier batches are still being written.
func (k *Keeper) Keep(keys []string, results []Result) {
	now := k.c.clock.Now()
	var batch []*mediasign.CachedURL
	for i, r := range results {
		if r.Source != FromSigner {
			continue
		}
		if !k.c.policy.Servable(r.ExpiresAt, now) {
			k.c.metrics.CacheLookup(string(FromSigner), "below_minimum")
			continue
		}
		batch = append(batch, &mediasign.CachedURL{Key: keys[i], URL: r.URL,
			ExpiresAt: r.ExpiresAt, Headers: r.Headers, CreatedAt: now})
	}
	if len(batch) > 0 {
		k.queue <- batch
	}
}

// Close waits for the queued writes and returns how many URLs were kept.
func (k *Keeper) Close() int64 {
	if !k.closed {
		k.closed = true
		close(k.queue)
	}
	<-k.done
	return k.kept.Load()
}

// run writes each queued batch; once ctx ends it only drains the queue.
func (k *Keeper) run(ctx context.Context) {
	defer close(k.done)
	for batch := range k.queue {
		if ctx.Err() != nil {
			continue
		}
		if err := k.put(k.ctx, batch); err != nil {
			k.c.logger.WarnContext(ctx, "write url cache batch", "error", err, "urls", len(batch))
			continue
		}
		k.kept.Add(int64(len(batch)))
	}
}

func (k *Keeper) put(ctx context.Context, batch []*mediasign.CachedURL) error {
	return k.c.putURLs(ctx, batch)
}

// putURLs writes us to the store, in one transaction when the store can.
func (c *Cache) putURLs(ctx context.Context, us []*mediasign.CachedURL) error {
	if bs, ok := c.store.(mediasign.URLCacheBatchStore); ok {
		return bs.PutCachedURLs(ctx, us)
	}
	for _, u := range us {
		if err := c.store.PutCachedURL(ctx, u); err != nil {
			return err
		}
	}
	return nil
}
