package urlcache_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/testenv/redistest"
)

// TestReplicaBatchesSignEachURLOnce runs batches and single lookups of
// overlapping keys on several replicas at once: each key is signed once,
// and every replica hands out the same URL for it.
func TestReplicaBatchesSignEachURLOnce(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	clock := mediasign.SystemClock{}
	replicas := make([]*replica, 3)
	for i := range replicas {
		replicas[i] = newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	}
	signer := &slowSigner{clock: clock, delay: 10 * time.Millisecond}
	keys := keysN(60)

	got := make([][]string, 6)
	var wg sync.WaitGroup
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := replicas[g%len(replicas)]
			if g == 5 {
				for _, k := range keys {
					res, err := r.cache.Get(context.Background(), k, signer.sign)
					if err != nil {
						t.Error(err)
					}
					got[g] = append(got[g], res.URL)
				}
				return
			}
			rs, errs := r.cache.GetMany(context.Background(), keys, 16,
				func(ctx context.Context, _ int, d time.Duration) (mediasign.SignedURL, error) {
					return signer.sign(ctx, d)
				})
			for i := range rs {
				if errs[i] != nil {
					t.Error(errs[i])
				}
				got[g] = append(got[g], rs[i].URL)
			}
		}()
	}
	wg.Wait()

	for g := range got {
		for i, u := range got[g] {
			if u == "" || u != got[0][i] {
				t.Errorf("%s: caller %d got %q, caller 0 %q", keys[i], g, u, got[0][i])
			}
		}
	}
	if n := signer.calls.Load(); n != int64(len(keys)) {
		t.Errorf("signer calls = %d for %d keys, want %d", n, len(keys), len(keys))
	}
	t.Logf("%d keys over %d replicas: %d signer calls", len(keys), len(replicas),
		signer.calls.Load())
}
