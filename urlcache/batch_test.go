package urlcache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/urlcache"
)

// batchSign adapts a countingSigner to the batch form.
func (s *countingSigner) batchSign(ctx context.Context, i int, validFor time.Duration) (mediasign.SignedURL, error) {
	return s.sign(ctx, validFor)
}

func keysN(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	return keys
}

// TestBatchReusesOnlyURLsThatLastLongEnough fills the memory tier through
// single lookups, then asks a batch for URLs valid beyond what some of
// them have left: those are signed again, the others come from memory.
func TestBatchReusesOnlyURLsThatLastLongEnough(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}
	cache, clock, _ := newCache(t, p)
	signer := &countingSigner{clock: clock}

	early, err := cache.Get(ctx, "k0", signer.sign)
	mustDo(t, err)
	clock.Advance(150 * time.Second)
	late, err := cache.Get(ctx, "k1", signer.sign)
	mustDo(t, err)

	// k0 has 150 s left, k1 300 s; the batch needs 200 s.
	out := make([]urlcache.Result, 3)
	atLeast := clock.Now().Add(200 * time.Second)
	err = cache.GetBatch(ctx, keysN(3), urlcache.BatchOptions{AtLeast: atLeast}, signer.batchSign, out)
	mustDo(t, err)

	if out[1].URL != late.URL || out[1].Source != urlcache.FromMemory {
		t.Errorf("k1 = %+v, want the cached %s from memory", out[1], late.URL)
	}
	for _, i := range []int{0, 2} {
		if out[i].Source != urlcache.FromSigner || out[i].ExpiresAt.Before(atLeast) {
			t.Errorf("k%d = %+v, want a new URL valid until %s", i, out[i], atLeast)
		}
	}
	if out[0].URL == early.URL {
		t.Error("k0 kept a URL that expires before the batch needs")
	}

	// The batch kept nothing: a single lookup still gets the old k0.
	again, err := cache.Get(ctx, "k0", signer.sign)
	mustDo(t, err)
	if again.URL != early.URL {
		t.Errorf("after the batch, k0 = %s, want the entry the batch left alone (%s)", again.URL, early.URL)
	}
}

// TestBatchStoreTierAndKeeper reads the persistent tier only when asked,
// and a Keeper writes the new URLs that are servable.
func TestBatchStoreTierAndKeeper(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}
	cache, clock, st := newCache(t, p)
	signer := &countingSigner{clock: clock}
	mustDo(t, st.PutCachedURL(ctx, &mediasign.CachedURL{Key: "k0", URL: "https://stored/k0",
		ExpiresAt: clock.Now().Add(250 * time.Second), CreatedAt: clock.Now()}))

	out := make([]urlcache.Result, 2)
	opts := urlcache.BatchOptions{AtLeast: clock.Now().Add(p.MinValid)}
	mustDo(t, cache.GetBatch(ctx, keysN(2), opts, signer.batchSign, out))
	if out[0].Source != urlcache.FromSigner {
		t.Fatalf("without Store, k0 = %+v, want signed", out[0])
	}

	opts.Store = true
	mustDo(t, cache.GetBatch(ctx, keysN(2), opts, signer.batchSign, out))
	if out[0].URL != "https://stored/k0" || out[0].Source != urlcache.FromStore {
		t.Fatalf("with Store, k0 = %+v, want the stored URL", out[0])
	}

	k := cache.NewKeeper(ctx)
	k.Keep(keysN(2), out)
	if kept := k.Close(); kept != 1 {
		t.Fatalf("Keeper kept %d URLs, want only the new k1", kept)
	}
	got, err := st.CachedURL(ctx, "k1")
	mustDo(t, err)
	if got.URL != out[1].URL {
		t.Fatalf("stored k1 = %s, want %s", got.URL, out[1].URL)
	}
}

// TestBatchFailsOnURLsThatCannotLast refuses a new URL that the signer's
// limit cuts short of what the batch needs, and passes signing errors on.
func TestBatchFailsOnURLsThatCannotLast(t *testing.T) {
	ctx := context.Background()
	p := urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}
	cache, clock, _ := newCache(t, p)

	limited := &countingSigner{clock: clock, limit: 150 * time.Second}
	out := make([]urlcache.Result, 2)
	opts := urlcache.BatchOptions{AtLeast: clock.Now().Add(200 * time.Second)}
	err := cache.GetBatch(ctx, keysN(2), opts, limited.batchSign, out)
	var short *urlcache.ShortURLError
	if !errors.As(err, &short) || short.Index != 0 {
		t.Fatalf("GetBatch with a 150 s limit = %v, want a ShortURLError for the first URL", err)
	}

	broken := &countingSigner{clock: clock, err: errors.New("signer down")}
	err = cache.GetBatch(ctx, keysN(2), opts, broken.batchSign, out)
	if err == nil || broken.calls.Load() != 1 {
		t.Fatalf("GetBatch with a failing signer = %v after %d calls, want the error after one",
			err, broken.calls.Load())
	}
}
