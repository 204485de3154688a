package urlcache_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/internal/testenv/redistest"
	"github.com/mediasign/mediasign/internal/testenv/tcpproxy"
	"github.com/mediasign/mediasign/metrics"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

var sharedPolicy = urlcache.Policy{MinValid: 100 * time.Second, NewValid: 300 * time.Second}

// replica is one process's cache: its own memory tier and database file,
// sharing only the Redis tier with the other replicas of a test.
type replica struct {
	cache   *urlcache.Cache
	metrics *metrics.Metrics
	logs    *syncBuffer
}

type replicaOptions struct {
	redisURL string
	prefix   string
	clock    mediasign.Clock
	lock     time.Duration
}

func newReplica(t *testing.T, o replicaOptions) *replica {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	tier, err := urlcache.NewRedisTier(o.redisURL, o.prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tier.Close() })

	r := &replica{metrics: metrics.New(), logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r.cache = urlcache.New(urlcache.Options{Policy: sharedPolicy, Store: st, Clock: o.clock,
		Logger: logger, Shared: tier, SharedLock: o.lock, Metrics: r.metrics})
	return r
}

// slowSigner counts calls across replicas and takes a while, so that
// concurrent requests overlap.
type slowSigner struct {
	clock mediasign.Clock
	delay time.Duration
	calls atomic.Int64
	fail  atomic.Int64 // the first fail calls return an error
}

func (s *slowSigner) sign(ctx context.Context, validFor time.Duration) (mediasign.SignedURL, error) {
	n := s.calls.Add(1)
	time.Sleep(s.delay)
	if n <= s.fail.Load() {
		return mediasign.SignedURL{}, fmt.Errorf("signer is failing on purpose")
	}
	return mediasign.SignedURL{URL: fmt.Sprintf("https://example.test/u%d", n),
		ExpiresAt: s.clock.Now().Add(validFor)}, nil
}

// TestReplicasSignEachURLOnce is the count: 200 concurrent requests
// for 50 keys over several replicas make 50 signatures, and every request
// of one key gets the same URL.
func TestReplicasSignEachURLOnce(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	clock := mediasign.SystemClock{}
	replicas := make([]*replica, 4)
	for i := range replicas {
		replicas[i] = newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	}
	signer := &slowSigner{clock: clock, delay: 20 * time.Millisecond}

	const keys, requests = 50, 200
	urls := make([]string, requests)
	errs := make([]error, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := replicas[i%len(replicas)]
			res, err := r.cache.Get(context.Background(), fmt.Sprintf("key-%d", i%keys), signer.sign)
			urls[i], errs[i] = res.URL, err
		}()
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if urls[i] != urls[i%keys] {
			t.Errorf("key-%d got %q on one replica and %q on another", i%keys, urls[i], urls[i%keys])
		}
	}
	if got := signer.calls.Load(); got != keys {
		t.Errorf("signer calls = %d for %d keys over %d replicas, want %d",
			got, keys, len(replicas), keys)
	}
	waits := 0.0
	for _, r := range replicas {
		waits += metricSum(t, r.metrics, "mediasign_url_cache_shared_waits_total")
	}
	t.Logf("%d requests, %d keys, %d replicas: %d signer calls, %v waits for another replica",
		requests, keys, len(replicas), signer.calls.Load(), waits)
}

// TestReplicaServesWhatAnotherSigned checks that a URL one replica signed
// comes to another from the shared tier, not from its own database.
func TestReplicaServesWhatAnotherSigned(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	clock := mediasign.SystemClock{}
	a := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	b := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	signer := &slowSigner{clock: clock}

	first, err := a.cache.Get(context.Background(), "videos/a b+c.mp4", signer.sign)
	mustDo(t, err)
	second, err := b.cache.Get(context.Background(), "videos/a b+c.mp4", signer.sign)
	mustDo(t, err)
	if second.Source != urlcache.FromShared || second.URL != first.URL ||
		!second.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("second replica got %+v, want %q from the shared tier", second, first.URL)
	}
	if signer.calls.Load() != 1 {
		t.Fatalf("signer calls = %d, want 1", signer.calls.Load())
	}

	keys := redistest.Keys(t, redisURL, prefix)
	if len(keys) != 1 {
		t.Fatalf("redis holds %v under the prefix, want one entry and no lock left", keys)
	}
	if strings.Contains(keys[0], "videos") {
		t.Errorf("redis key %q shows the object key", keys[0])
	}
}

// TestSharedEntryEndsAtSafeDeadline checks that Redis drops an entry at
// expires_at minus the minimum validity, never later, and that a replica
// whose clock has passed that point does not serve it either.
func TestSharedEntryEndsAtSafeDeadline(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	clock := fakeclock.New(start)
	r := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})

	// The signer's URL lasts M + 1.5 s: servable for 1.5 s.
	short := func(ctx context.Context, _ time.Duration) (mediasign.SignedURL, error) {
		return mediasign.SignedURL{URL: "https://example.test/short",
			ExpiresAt: clock.Now().Add(sharedPolicy.MinValid + 1500*time.Millisecond)}, nil
	}
	_, err := r.cache.Get(context.Background(), "k", short)
	mustDo(t, err)

	client := redisClient(t, redisURL)
	keys := redistest.Keys(t, redisURL, prefix)
	if len(keys) != 1 {
		t.Fatalf("redis keys = %v, want one entry", keys)
	}
	ttl, err := client.PTTL(context.Background(), keys[0]).Result()
	mustDo(t, err)
	if ttl <= 0 || ttl > 1500*time.Millisecond {
		t.Fatalf("entry TTL = %s, want above 0 and at most 1.5s", ttl)
	}

	other := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	clock.Advance(1501 * time.Millisecond)
	signer := &slowSigner{clock: clock}
	got, err := other.cache.Get(context.Background(), "k", signer.sign)
	mustDo(t, err)
	if got.Source != urlcache.FromSigner {
		t.Fatalf("past the safe deadline got %+v, want a new URL", got)
	}
}

// TestDeadHolderFreesTheLock takes a lock the way a replica that dies while
// signing leaves it: a waiting replica signs once the lock expires.
func TestDeadHolderFreesTheLock(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	clock := mediasign.SystemClock{}
	const lock = 400 * time.Millisecond
	dead, err := urlcache.NewRedisTier(redisURL, prefix, nil)
	mustDo(t, err)
	defer dead.Close()
	_, ok, err := dead.Lock(context.Background(), "k", lock)
	mustDo(t, err)
	if !ok {
		t.Fatal("could not take the lock of a new key")
	}

	r := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock, lock: lock})
	signer := &slowSigner{clock: clock}
	begin := time.Now()
	got, err := r.cache.Get(context.Background(), "k", signer.sign)
	mustDo(t, err)
	waited := time.Since(begin)
	if got.Source != urlcache.FromSigner || signer.calls.Load() != 1 {
		t.Fatalf("got %+v after %d signer calls, want one new URL", got, signer.calls.Load())
	}
	if waited < lock/2 || waited > 5*time.Second {
		t.Fatalf("waited %s for a dead holder's lock of %s", waited, lock)
	}
	if n := metricSum(t, r.metrics, "mediasign_url_cache_shared_waits_total"); n != 1 {
		t.Errorf("shared waits = %v, want 1 (took over)", n)
	}
}

// TestFailedHolderLetsAnotherSign makes the first signature fail: the
// replica that waited for it signs instead, and both callers are answered.
func TestFailedHolderLetsAnotherSign(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	clock := mediasign.SystemClock{}
	a := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	b := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	signer := &slowSigner{clock: clock, delay: 100 * time.Millisecond}
	signer.fail.Store(1)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, r := range []*replica{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.cache.Get(context.Background(), "k", signer.sign)
		}()
	}
	wg.Wait()

	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed != 1 || signer.calls.Load() != 2 {
		t.Fatalf("errors %v after %d signer calls, want one failure and one success after 2 calls",
			errs, signer.calls.Load())
	}
}

// TestRedisOutage cuts Redis under a replica: requests keep being answered
// from the signer and the database, the outage is logged once and shown in
// the metrics, and the tier is used again once Redis answers.
func TestRedisOutage(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	opts, err := redis.ParseURL(redisURL)
	mustDo(t, err)
	proxy := tcpproxy.Start(t, opts.Addr)
	proxied := "redis://" + proxy.Addr + fmt.Sprintf("/%d", opts.DB)
	clock := fakeclock.New(start)
	r := newReplica(t, replicaOptions{redisURL: proxied, prefix: prefix, clock: clock})
	signer := &slowSigner{clock: clock}
	ctx := context.Background()

	_, err = r.cache.Get(ctx, "before", signer.sign)
	mustDo(t, err)
	for _, mode := range []tcpproxy.Mode{tcpproxy.Drop, tcpproxy.Stall} {
		proxy.SetMode(mode)
		for i := range 20 {
			begin := time.Now()
			_, err := r.cache.Get(ctx, fmt.Sprintf("mode%d-%d", mode, i), signer.sign)
			if err != nil {
				t.Fatalf("mode %d: request %d during the outage: %v", mode, i, err)
			}
			if took := time.Since(begin); took > 3*time.Second {
				t.Fatalf("mode %d: request %d took %s during the outage", mode, i, took)
			}
		}
		if up := metricSum(t, r.metrics, "mediasign_redis_up"); up != 0 {
			t.Errorf("mode %d: mediasign_redis_up = %v during the outage, want 0", mode, up)
		}
		logged := strings.Count(r.logs.String(), "shared url cache is unreachable")
		if want := int(mode); logged != want {
			t.Errorf("mode %d: %d outages logged %d times, want once each:\n%s",
				mode, want, logged, r.logs)
		}

		proxy.SetMode(tcpproxy.Pass)
		waitRecovered(t, r, clock)
	}
	if configured, err := r.cache.CheckShared(ctx); !configured || err != nil {
		t.Fatalf("CheckShared after recovery = %v, %v", configured, err)
	}
}

// waitRecovered advances the clock past the retry interval until the
// replica's background probe finds Redis again.
func waitRecovered(t *testing.T, r *replica, clock *fakeclock.Clock) {
	t.Helper()
	signer := &slowSigner{clock: clock}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		clock.Advance(3 * time.Second)
		if _, err := r.cache.Get(context.Background(), fmt.Sprintf("probe-%d", i), signer.sign); err != nil {
			t.Fatal(err)
		}
		if metricSum(t, r.metrics, "mediasign_redis_up") == 1 {
			if !strings.Contains(r.logs.String(), "shared url cache is reachable again") {
				t.Errorf("recovery was not logged:\n%s", r.logs)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the replica did not use Redis again within 10s of it answering")
}

// TestRedisNeverReachable checks that an address where no Redis listens
// gives answers, and a down gauge from the first request on.
func TestRedisNeverReachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustDo(t, err)
	addr := ln.Addr().String()
	ln.Close()

	clock := mediasign.SystemClock{}
	r := newReplica(t, replicaOptions{redisURL: "redis://" + addr + "/0", prefix: "p:", clock: clock})
	signer := &slowSigner{clock: clock}
	for i := range 5 {
		_, err := r.cache.Get(context.Background(), fmt.Sprintf("k%d", i), signer.sign)
		mustDo(t, err)
	}
	if up := metricSum(t, r.metrics, "mediasign_redis_up"); up != 0 {
		t.Errorf("mediasign_redis_up = %v with no Redis, want 0", up)
	}
	if configured, err := r.cache.CheckShared(context.Background()); !configured || err == nil {
		t.Errorf("CheckShared with no Redis = %v, %v; want configured and an error", configured, err)
	}
}

// metricSum adds up the samples of the metric called name.
func metricSum(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	mustDo(t, err)
	sum := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			sum += s.GetCounter().GetValue() + s.GetGauge().GetValue()
		}
	}
	return sum
}

func redisClient(t *testing.T, redisURL string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL)
	mustDo(t, err)
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// syncBuffer is a log sink that goroutines may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRedisKeepsURLsByteForByte stores URLs with characters that encoders
// like to rewrite, and reads them back unchanged.
func TestRedisKeepsURLsByteForByte(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	tier, err := urlcache.NewRedisTier(redisURL, prefix, nil)
	mustDo(t, err)
	defer tier.Close()
	ctx := context.Background()
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)

	urls := []string{"https://h/b/a%20b+c.jpg?X-Amz-Signature=ab&x=<y>",
		"https://h/unicode/größe-写真.jpg?se=2027-01-02T03%3A04%3A05Z&sig=a%2Bb%3D",
		"https://h/o?a=1&&b=%zz#frag"}
	for i, u := range urls {
		key := fmt.Sprintf("k%d", i)
		in := &mediasign.CachedURL{Key: key, URL: u, ExpiresAt: exp, CreatedAt: start,
			Headers: map[string]string{"Content-Type": "image/png", "X-A": "<&>"}}
		mustDo(t, tier.Put(ctx, in, time.Minute))
		got, err := tier.Get(ctx, key)
		mustDo(t, err)
		if got == nil || got.URL != u || !got.ExpiresAt.Equal(exp) || got.Headers["X-A"] != "<&>" {
			t.Errorf("round trip of %q gave %+v", u, got)
		}
	}
	if got, err := tier.Get(ctx, "absent"); got != nil || err != nil {
		t.Errorf("Get of an absent key = %+v, %v; want nil, nil", got, err)
	}
}
