package urlcache_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

var start = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// countingSigner signs URLs that name their serial number and counts calls.
type countingSigner struct {
	clock *fakeclock.Clock
	calls atomic.Int64
	limit time.Duration
	err   error
}

func (s *countingSigner) sign(ctx context.Context, validFor time.Duration) (mediasign.SignedURL, error) {
	n := s.calls.Add(1)
	if s.err != nil {
		return mediasign.SignedURL{}, s.err
	}
	if s.limit > 0 {
		validFor = min(validFor, s.limit)
	}
	now := s.clock.Now()
	return mediasign.SignedURL{URL: fmt.Sprintf("https://example.test/u%d", n),
		ExpiresAt: now.Add(validFor)}, nil
}

func newCache(t *testing.T, p urlcache.Policy) (*urlcache.Cache, *fakeclock.Clock, mediasign.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := fakeclock.New(start)
	return urlcache.New(urlcache.Options{Policy: p, Store: st, Clock: clock}), clock, st
}

// TestServedOnlyWhileMinimumValidityLeft is case C17.
func TestServedOnlyWhileMinimumValidityLeft(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}
	cache, clock, _ := newCache(t, p)
	signer := &countingSigner{clock: clock}

	first, err := cache.Get(ctx, "k", signer.sign)
	mustDo(t, err)
	if first.Source != urlcache.FromSigner || !first.ExpiresAt.Equal(start.Add(300*time.Second)) {
		t.Fatalf("first = %+v, want a new URL expiring at start+300s", first)
	}

	clock.Advance(200 * time.Second) // exactly M left: still served
	again, err := cache.Get(ctx, "k", signer.sign)
	mustDo(t, err)
	if again.URL != first.URL || !again.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("at exactly M left got %+v, want the cached URL with its expiry unchanged", again)
	}

	clock.Advance(time.Second) // M-1 left: never served
	fresh, err := cache.Get(ctx, "k", signer.sign)
	mustDo(t, err)
	if fresh.URL == first.URL || fresh.Source != urlcache.FromSigner {
		t.Fatalf("below M got %+v, want a newly signed URL", fresh)
	}
	if got := signer.calls.Load(); got != 2 {
		t.Fatalf("signer calls = %d, want 2", got)
	}
}

func TestReadsNeverExtendAnEntry(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 10 * time.Second, NewValid: 60 * time.Second}
	cache, clock, _ := newCache(t, p)
	signer := &countingSigner{clock: clock}

	first, err := cache.Get(ctx, "k", signer.sign)
	mustDo(t, err)
	for i := 0; i < 50; i++ {
		clock.Advance(time.Second)
		r, err := cache.Get(ctx, "k", signer.sign)
		mustDo(t, err)
		if !r.ExpiresAt.Equal(first.ExpiresAt) {
			t.Fatalf("read %d moved expiry from %v to %v", i, first.ExpiresAt, r.ExpiresAt)
		}
	}
	if signer.calls.Load() != 1 {
		t.Fatalf("signer calls = %d, want 1 while the entry stays servable", signer.calls.Load())
	}
}

func TestStoreTierSurvivesNewProcess(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 10 * time.Second, NewValid: 60 * time.Second}
	cache, clock, st := newCache(t, p)
	signer := &countingSigner{clock: clock}
	first, err := cache.Get(ctx, "k", signer.sign)
	mustDo(t, err)

	// A second cache over the same store stands for a restarted process.
	other := urlcache.New(urlcache.Options{Policy: p, Store: st, Clock: clock})
	clock.Advance(5 * time.Second)
	r, err := other.Get(ctx, "k", signer.sign)
	mustDo(t, err)
	if r.Source != urlcache.FromStore || r.URL != first.URL {
		t.Fatalf("restarted cache gave %+v, want the stored URL", r)
	}
	r, err = other.Get(ctx, "k", signer.sign)
	mustDo(t, err)
	if r.Source != urlcache.FromMemory {
		t.Fatalf("second read came from %s, want memory", r.Source)
	}

	clock.Advance(50 * time.Second) // 5 s left, below M: the stored row is stale
	r, err = other.Get(ctx, "k", signer.sign)
	mustDo(t, err)
	if r.Source != urlcache.FromSigner {
		t.Fatalf("stale stored entry served from %s", r.Source)
	}
}

func TestConcurrentMissesSignOnce(t *testing.T) {
	ctx := context.Background()
	cache, clock, _ := newCache(t, urlcache.DefaultPolicy())
	signer := &countingSigner{clock: clock}

	var wg sync.WaitGroup
	urls := make([]string, 200)
	for i := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := cache.Get(ctx, "same", signer.sign)
			if err != nil {
				t.Error(err)
				return
			}
			urls[i] = r.URL
		}()
	}
	wg.Wait()

	if signer.calls.Load() != 1 {
		t.Fatalf("200 concurrent gets made %d signer calls, want 1", signer.calls.Load())
	}
	for _, u := range urls {
		if u != urls[0] {
			t.Fatalf("callers got different URLs: %q and %q", u, urls[0])
		}
	}
}

func TestFailureIsNotCachedAndKeepsGoodEntry(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 10 * time.Second, NewValid: 60 * time.Second}
	cache, clock, st := newCache(t, p)
	signer := &countingSigner{clock: clock, err: errors.New("boom")}

	if _, err := cache.Get(ctx, "k", signer.sign); err == nil {
		t.Fatal("signer failure was not returned")
	}
	if _, err := st.CachedURL(ctx, "k"); !errors.Is(err, mediasign.ErrNotFound) {
		t.Fatalf("a failure left a stored entry: %v", err)
	}

	signer.err = nil
	if _, err := cache.Get(ctx, "k", signer.sign); err != nil {
		t.Fatalf("cache stayed broken after the signer recovered: %v", err)
	}
	if signer.calls.Load() != 2 {
		t.Fatalf("signer calls = %d, want 2 (failures are never cached)", signer.calls.Load())
	}
}

func TestURLShorterThanMinimumIsNeverCached(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}
	cache, clock, _ := newCache(t, p)
	signer := &countingSigner{clock: clock, limit: 50 * time.Second}

	r, err := cache.Get(ctx, "k", signer.sign)
	mustDo(t, err)
	if !r.ExpiresAt.Equal(start.Add(50 * time.Second)) {
		t.Fatalf("expires_at = %v, want the signer's honest 50 s", r.ExpiresAt)
	}
	if _, err := cache.Get(ctx, "k", signer.sign); err != nil {
		t.Fatal(err)
	}
	if signer.calls.Load() != 2 {
		t.Fatalf("a URL below M was served from cache (%d signer calls)", signer.calls.Load())
	}
}

// TestPurgeRemovesExpiredRows checks that Purge keeps a row below M, which
// a failed signing may still serve, and removes it once it has expired.
func TestPurgeRemovesExpiredRows(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 10 * time.Second, NewValid: 60 * time.Second}
	cache, clock, st := newCache(t, p)
	signer := &countingSigner{clock: clock}
	_, err := cache.Get(ctx, "k", signer.sign)
	mustDo(t, err)

	clock.Advance(55 * time.Second) // below M, still valid
	n, err := cache.Purge(ctx)
	mustDo(t, err)
	if n != 0 {
		t.Fatalf("Purge removed %d rows below M that are still valid, want 0", n)
	}

	clock.Advance(6 * time.Second) // expired
	n, err = cache.Purge(ctx)
	mustDo(t, err)
	if n != 1 {
		t.Fatalf("Purge removed %d rows, want 1", n)
	}
	if _, err := st.CachedURL(ctx, "k"); !errors.Is(err, mediasign.ErrNotFound) {
		t.Fatalf("purged row still there: %v", err)
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
