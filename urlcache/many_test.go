package urlcache_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

// countingStore counts the URL cache calls that reach a batch store.
type countingStore struct {
	mediasign.URLCacheBatchStore
	reads, batchReads, writes, batchWrites atomic.Int64
}

func (s *countingStore) CachedURL(ctx context.Context, key string) (*mediasign.CachedURL, error) {
	s.reads.Add(1)
	return s.URLCacheBatchStore.CachedURL(ctx, key)
}

func (s *countingStore) CachedURLs(ctx context.Context, keys []string) ([]*mediasign.CachedURL, error) {
	s.batchReads.Add(1)
	return s.URLCacheBatchStore.CachedURLs(ctx, keys)
}

func (s *countingStore) PutCachedURL(ctx context.Context, u *mediasign.CachedURL) error {
	s.writes.Add(1)
	return s.URLCacheBatchStore.PutCachedURL(ctx, u)
}

func (s *countingStore) PutCachedURLs(ctx context.Context, us []*mediasign.CachedURL) error {
	s.batchWrites.Add(1)
	return s.URLCacheBatchStore.PutCachedURLs(ctx, us)
}

func (s *countingStore) reset() {
	s.reads.Store(0)
	s.batchReads.Store(0)
	s.writes.Store(0)
	s.batchWrites.Store(0)
}

// keySigner signs URLs that name their key and the signing time, so two
// caches with the same clock sign the same URLs in any order. Keys that
// start with "fail-" fail like an unreachable signer, and keys that start
// with "refuse-" are refused, while failing is set.
type keySigner struct {
	clock   *fakeclock.Clock
	failing atomic.Bool
	delay   time.Duration

	mu    sync.Mutex
	calls map[string]int
}

func (s *keySigner) signKey(key string, validFor time.Duration) (mediasign.SignedURL, error) {
	s.mu.Lock()
	if s.calls == nil {
		s.calls = make(map[string]int)
	}
	s.calls[key]++
	s.mu.Unlock()
	time.Sleep(s.delay)

	switch {
	case s.failing.Load() && strings.HasPrefix(key, "fail-"):
		return mediasign.SignedURL{}, &mediasign.Error{Code: mediasign.CodeBadGateway,
			Message: "signer unreachable"}
	case s.failing.Load() && strings.HasPrefix(key, "refuse-"):
		return mediasign.SignedURL{}, &mediasign.Error{Code: mediasign.CodeForbidden,
			Message: "signer refuses"}
	case strings.HasPrefix(key, "short-"):
		validFor = 30 * time.Second
	}
	now := s.clock.Now()
	return mediasign.SignedURL{URL: fmt.Sprintf("https://example.test/%s?at=%d", key, now.Unix()),
		ExpiresAt: now.Add(validFor)}, nil
}

func (s *keySigner) callsOf(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[key]
}

// manyFixture is a cache over a counting SQLite store.
type manyFixture struct {
	cache  *urlcache.Cache
	clock  *fakeclock.Clock
	store  *countingStore
	signer *keySigner
}

func newManyFixture(t *testing.T, p urlcache.Policy) *manyFixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := fakeclock.New(start)
	cs := &countingStore{URLCacheBatchStore: st}
	return &manyFixture{cache: urlcache.New(urlcache.Options{Policy: p, Store: cs, Clock: clock}),
		clock: clock, store: cs, signer: &keySigner{clock: clock}}
}

func (f *manyFixture) get(ctx context.Context, key string) (urlcache.Result, error) {
	return f.cache.Get(ctx, key, func(_ context.Context, d time.Duration) (mediasign.SignedURL, error) {
		return f.signer.signKey(key, d)
	})
}

func (f *manyFixture) getMany(ctx context.Context, keys []string) ([]urlcache.Result, []error) {
	return f.cache.GetMany(ctx, keys, 8,
		func(_ context.Context, i int, d time.Duration) (mediasign.SignedURL, error) {
			return f.signer.signKey(keys[i], d)
		})
}

// put stores an entry for key that expires in left.
func (f *manyFixture) put(t *testing.T, key string, left time.Duration) {
	t.Helper()
	now := f.clock.Now()
	err := f.store.PutCachedURL(context.Background(), &mediasign.CachedURL{Key: key,
		URL: "https://example.test/stored/" + key, ExpiresAt: now.Add(left), CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
}

// setUp gives the fixture the same state as every other: entries in
// memory, in the store only, stale in memory and stale in the store.
func (f *manyFixture) setUp(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, k := range []string{"fail-mem-stale", "mem-stale"} {
		if _, err := f.get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(210 * time.Second) // those two now have 90 s left of 300

	for _, k := range []string{"mem-hit", "fail-mem-hit"} {
		if _, err := f.get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	f.put(t, "store-hit", 250*time.Second)
	f.put(t, "fail-store-hit", 250*time.Second)
	f.put(t, "store-stale", 90*time.Second)
	f.put(t, "fail-store-stale", 90*time.Second)
	f.put(t, "refuse-store-stale", 90*time.Second)
	f.put(t, "fail-store-expiring", 30*time.Second)
	f.clock.Advance(time.Second)
	f.signer.failing.Store(true)
	f.store.reset()
}

var manyKeys = []string{
	"mem-hit", "fail-mem-hit", "store-hit", "fail-store-hit", "store-stale", "mem-stale",
	"miss", "short-miss", "fail-miss", "fail-store-stale", "fail-mem-stale",
	"fail-store-expiring", "refuse-store-stale", "refuse-miss", "miss", "mem-hit",
	"fail-store-stale", "store-hit",
}

// TestGetManyAnswersAsGetDoes resolves one batch with GetMany and the same
// keys one by one with Get, on two caches in the same state, and compares
// every answer and what each cache stored.
func TestGetManyAnswersAsGetDoes(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}
	batch, single := newManyFixture(t, p), newManyFixture(t, p)
	batch.setUp(t)
	single.setUp(t)

	got, errs := batch.getMany(ctx, manyKeys)
	for i, k := range manyKeys {
		want, wantErr := single.get(ctx, k)
		t.Run(fmt.Sprintf("%02d-%s", i, k), func(t *testing.T) {
			if mediasign.ErrorCode(errs[i]) != mediasign.ErrorCode(wantErr) ||
				(errs[i] == nil) != (wantErr == nil) {
				t.Fatalf("error = %v, Get says %v", errs[i], wantErr)
			}
			if got[i].URL != want.URL || !got[i].ExpiresAt.Equal(want.ExpiresAt) ||
				got[i].Stale != want.Stale {
				t.Errorf("result = %+v, Get says %+v", got[i], want)
			}
		})
	}

	for _, k := range manyKeys {
		b, bErr := batch.store.URLCacheBatchStore.CachedURL(ctx, k)
		s, sErr := single.store.URLCacheBatchStore.CachedURL(ctx, k)
		if (bErr == nil) != (sErr == nil) || (bErr == nil && (b.URL != s.URL ||
			!b.ExpiresAt.Equal(s.ExpiresAt))) {
			t.Errorf("stored %s = %+v (%v), Get stored %+v (%v)", k, b, bErr, s, sErr)
		}
	}
}

// TestGetManyReadsAndWritesTheStoreOnce checks that a batch with misses,
// stale entries and failures costs one store read and one store write,
// and signs each distinct key at most once.
func TestGetManyReadsAndWritesTheStoreOnce(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}
	f := newManyFixture(t, p)
	f.setUp(t)

	_, errs := f.getMany(ctx, manyKeys)
	if n := f.store.batchReads.Load() + f.store.reads.Load(); n != 1 {
		t.Errorf("store reads = %d, want 1", n)
	}
	if n := f.store.batchWrites.Load() + f.store.writes.Load(); n != 1 {
		t.Errorf("store writes = %d, want 1", n)
	}
	for i, k := range manyKeys {
		if n := f.signer.callsOf(k); n > 2 {
			// One call in setUp at most, and one for the batch.
			t.Errorf("%s signed %d times", k, n)
		}
		if strings.HasPrefix(k, "fail-miss") && errs[i] == nil {
			t.Errorf("%s: no error for a failed signing without a cached URL", k)
		}
	}

	// A batch that finds everything reads the store for nothing and
	// writes nothing.
	f.store.reset()
	f.signer.failing.Store(false)
	if _, errs := f.getMany(ctx, []string{"mem-hit", "miss"}); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	if n := f.store.batchReads.Load() + f.store.reads.Load() + f.store.batchWrites.Load() +
		f.store.writes.Load(); n != 0 {
		t.Errorf("store calls for a batch of memory hits = %d, want 0", n)
	}
}

// TestGetManyConcurrentWithGet runs overlapping batches and single lookups
// at once: each key is signed once and every caller gets its URL.
func TestGetManyConcurrentWithGet(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}
	f := newManyFixture(t, p)
	f.signer.delay = 5 * time.Millisecond
	keys := keysN(200)

	var wg sync.WaitGroup
	urls := make([][]string, 8)
	for g := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ks := keys[g*10 : g*10+100]
			if g%2 == 1 {
				for _, k := range ks {
					r, err := f.get(ctx, k)
					if err != nil {
						t.Error(err)
					}
					urls[g] = append(urls[g], r.URL)
				}
				return
			}
			rs, errs := f.getMany(ctx, ks)
			for i := range rs {
				if errs[i] != nil {
					t.Error(errs[i])
				}
				urls[g] = append(urls[g], rs[i].URL)
			}
		}()
	}
	wg.Wait()

	for g, us := range urls {
		for n, u := range us {
			k := keys[g*10+n]
			if !strings.Contains(u, "/"+k+"?") || f.signer.callsOf(k) != 1 {
				t.Errorf("%s: url %q after %d signings, want one", k, u, f.signer.callsOf(k))
			}
		}
	}
}
