package customsigner

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/fakeclock"
)

// testSigner is a signer on loopback that counts calls and the calls in
// flight at once.
type testSigner struct {
	srv      *httptest.Server
	calls    atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64
	handler  atomic.Value // http.HandlerFunc
}

func newTestSigner(t *testing.T, h http.HandlerFunc) *testSigner {
	t.Helper()
	s := &testSigner{}
	s.handler.Store(h)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
		}
		s.handler.Load().(http.HandlerFunc)(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *testSigner) set(h http.HandlerFunc) { s.handler.Store(h) }

func okAnswer(w http.ResponseWriter, r *http.Request) {
	writeJSONTest(w, 200, map[string]string{"url": "https://cdn.test/" + r.URL.Query().Get("key") + "?sig=1"})
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

func writeJSONTest(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// newClient returns a client of the signer at url acting with a service
// token, on the fake clock.
func newClient(t *testing.T, url string, clock mediasign.Clock, edit func(*mediasign.SignerConfig)) *Client {
	t.Helper()
	cfg := mediasign.SignerConfig{URL: url, ServiceToken: "svc-token", TimeoutMS: 2000}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New("media", cfg, Options{Clock: clock})
	must(t, err)
	t.Cleanup(c.Close)
	return c
}

func getReq(key string) mediasign.SignRequest {
	return mediasign.SignRequest{Bucket: "b", Key: key, Method: mediasign.MethodGet, Expires: time.Hour}
}

// TestBreakerOpensAndRecovers drives the breaker with a fake clock: five
// failures in a row open it, calls then fail fast without reaching the
// signer, and after the pause one probe goes through; a failed probe opens
// it again and a good one closes it.
func TestBreakerOpensAndRecovers(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(now)
	s := newTestSigner(t, status(500))
	c := newClient(t, s.srv.URL, clock, nil)

	for i := range failureThreshold {
		if _, err := c.Sign(ctx, getReq("k")); mediasign.ErrorCode(err) != mediasign.CodeBadGateway {
			t.Fatalf("call %d: error %v, want bad gateway", i, err)
		}
	}
	if c.breaker.current() != stateOpen || s.calls.Load() != failureThreshold {
		t.Fatalf("after %d failures: state %s, %d calls", failureThreshold, c.breaker.current(),
			s.calls.Load())
	}

	start := time.Now()
	_, err := c.Sign(ctx, getReq("k"))
	if mediasign.ErrorCode(err) != mediasign.CodeBadGateway || s.calls.Load() != failureThreshold {
		t.Fatalf("open breaker: error %v after %d calls, want a fast failure", err, s.calls.Load())
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Fatalf("an open breaker took %s to fail", time.Since(start))
	}

	clock.Advance(openFor)
	if _, err := c.Sign(ctx, getReq("k")); err == nil || c.breaker.current() != stateOpen {
		t.Fatalf("failed probe: error %v, state %s, want open again", err, c.breaker.current())
	}
	if s.calls.Load() != failureThreshold+1 {
		t.Fatalf("half-open let %d calls through, want 1", s.calls.Load()-failureThreshold)
	}

	clock.Advance(openFor)
	s.set(okAnswer)
	if _, err := c.Sign(ctx, getReq("k")); err != nil {
		t.Fatalf("good probe: %v", err)
	}
	if c.breaker.current() != stateClosed {
		t.Fatalf("state %s after a good probe, want closed", c.breaker.current())
	}
}

// TestHalfOpenLetsOneProbeThrough holds the probe in the signer while
// other calls arrive: they fail fast.
func TestHalfOpenLetsOneProbeThrough(t *testing.T) {
	clock := fakeclock.New(now)
	release := make(chan struct{})
	s := newTestSigner(t, status(503))
	c := newClient(t, s.srv.URL, clock, nil)
	for range failureThreshold {
		c.breaker.allow()
		c.breaker.done(unhealthy)
	}
	clock.Advance(openFor)
	s.set(func(w http.ResponseWriter, r *http.Request) { <-release; okAnswer(w, r) })

	done := make(chan error)
	go func() { _, err := c.Sign(context.Background(), getReq("probe")); done <- err }()
	for s.inFlight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := range 20 {
		if _, err := c.Sign(context.Background(), getReq("other")); err == nil {
			t.Fatalf("call %d went through while the probe was out", i)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if s.calls.Load() != 1 {
		t.Fatalf("signer got %d calls in half-open, want the probe alone", s.calls.Load())
	}
}

func TestRefusalsDoNotOpenTheBreaker(t *testing.T) {
	s := newTestSigner(t, status(403))
	c := newClient(t, s.srv.URL, nil, nil)
	for range 3 * failureThreshold {
		if _, err := c.Sign(context.Background(), getReq("k")); mediasign.ErrorCode(err) != mediasign.CodeForbidden {
			t.Fatalf("error %v, want forbidden", err)
		}
	}
	if c.breaker.current() != stateClosed || s.calls.Load() != 3*failureThreshold {
		t.Fatalf("state %s after %d refusals", c.breaker.current(), s.calls.Load())
	}
}

// TestConcurrentIdenticalRequestsCoalesce sends 1000 identical requests
// at once: the signer gets one call and every caller the same URL.
func TestConcurrentIdenticalRequestsCoalesce(t *testing.T) {
	release := make(chan struct{})
	s := newTestSigner(t, func(w http.ResponseWriter, r *http.Request) { <-release; okAnswer(w, r) })
	c := newClient(t, s.srv.URL, nil, nil)

	var wg sync.WaitGroup
	urls := make([]string, 1000)
	for i := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := c.Sign(context.Background(), getReq("same"))
			if err != nil {
				t.Error(err)
			}
			urls[i] = u.URL
		}()
	}
	for s.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the rest of the callers arrive
	close(release)
	wg.Wait()

	if s.calls.Load() != 1 {
		t.Fatalf("1000 identical requests made %d calls, want 1", s.calls.Load())
	}
	for _, u := range urls {
		if u != urls[0] || u == "" {
			t.Fatalf("callers got different URLs: %q and %q", u, urls[0])
		}
	}
}

func TestConcurrencyIsLimited(t *testing.T) {
	s := newTestSigner(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		okAnswer(w, r)
	})
	c := newClient(t, s.srv.URL, nil, func(cfg *mediasign.SignerConfig) { cfg.MaxConcurrency = 4 })

	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Sign(context.Background(), getReq(string(rune('a'+i%26))+string(rune('0'+i/26)))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if p := s.peak.Load(); p > 4 || p < 2 {
		t.Fatalf("peak calls in flight %d, want 2 to 4", p)
	}
}

func TestRetriesOnlyWhatMayHeal(t *testing.T) {
	for _, tc := range []struct {
		name      string
		statuses  []int
		wantCalls int64
		wantCode  mediasign.Code
	}{
		{"503 then 200", []int{503, 200}, 2, ""},
		{"502, 504 then 200", []int{502, 504, 200}, 3, ""},
		{"503 three times", []int{503, 503, 503, 200}, 3, mediasign.CodeBadGateway},
		{"500 is not retried", []int{500, 200}, 1, mediasign.CodeBadGateway},
		{"404 is not retried", []int{404, 200}, 1, mediasign.CodeNotFound},
		{"400 is not retried", []int{400, 200}, 1, mediasign.CodeInvalid},
		{"429 is not retried", []int{429, 200}, 1, mediasign.CodeBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			s := newTestSigner(t, func(w http.ResponseWriter, r *http.Request) {
				code := tc.statuses[min(int(n.Add(1))-1, len(tc.statuses)-1)]
				if code == 200 {
					okAnswer(w, r)
					return
				}
				w.WriteHeader(code)
			})
			c := newClient(t, s.srv.URL, nil, nil)
			_, err := c.Sign(context.Background(), getReq("k"))
			if mediasign.ErrorCode(err) != tc.wantCode && !(tc.wantCode == "" && err == nil) {
				t.Fatalf("error %v, want code %q", err, tc.wantCode)
			}
			if s.calls.Load() != tc.wantCalls {
				t.Fatalf("%d calls, want %d", s.calls.Load(), tc.wantCalls)
			}
		})
	}
}

func TestConnectionErrorsAreRetried(t *testing.T) {
	s := newTestSigner(t, okAnswer)
	url := s.srv.URL
	s.srv.Close() // nothing listens any more
	c := newClient(t, url, nil, nil)
	start := time.Now()
	_, err := c.Sign(context.Background(), getReq("k"))
	if mediasign.ErrorCode(err) != mediasign.CodeBadGateway {
		t.Fatalf("error %v, want bad gateway", err)
	}
	// Three attempts with two pauses of at least 25 ms and 50 ms.
	if d := time.Since(start); d < 75*time.Millisecond || d > 2*time.Second {
		t.Fatalf("took %s, want the retry pauses and no more", d)
	}
}

// TestBatchExtension signs many keys in few calls, with per-key results.
func TestBatchExtension(t *testing.T) {
	var batches, keys atomic.Int64
	s := newTestSigner(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("key") == "refused" {
			w.WriteHeader(403) // a key left alone goes out as a single call
			return
		}
		if r.Method == http.MethodGet {
			okAnswer(w, r)
			return
		}
		var req struct {
			Items []batchItem `json:"items"`
		}
		must(t, json.NewDecoder(r.Body).Decode(&req))
		batches.Add(1)
		keys.Add(int64(len(req.Items)))
		time.Sleep(5 * time.Millisecond)
		res := make([]map[string]any, len(req.Items))
		for i, it := range req.Items {
			res[i] = map[string]any{"url": "https://cdn.test/" + it.Key + "?sig=1"}
			if it.Key == "refused" {
				res[i] = map[string]any{"status": 403}
			}
		}
		writeJSONTest(w, 200, map[string]any{"results": res})
	})
	c := newClient(t, s.srv.URL, nil, func(cfg *mediasign.SignerConfig) {
		cfg.Batch, cfg.MaxConcurrency = true, 2
	})

	const n = 500
	var wg sync.WaitGroup
	errs := make([]error, n+1)
	urls := make([]string, n+1)
	for i := range n + 1 {
		key := "k" + string(rune('A'+i%26)) + string(rune('A'+i/26))
		if i == n {
			key = "refused"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := c.Sign(context.Background(), getReq(key))
			urls[i], errs[i] = u.URL, err
			if err == nil && u.URL != "https://cdn.test/"+key+"?sig=1" {
				t.Errorf("key %s got %s", key, u.URL)
			}
		}()
	}
	wg.Wait()

	for i, err := range errs[:n] {
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if mediasign.ErrorCode(errs[n]) != mediasign.CodeForbidden {
		t.Fatalf("refused key: %v, want forbidden", errs[n])
	}
	if calls := s.calls.Load(); calls > 30 {
		t.Fatalf("%d keys took %d calls (%d batches): the batches did not gather", n+1, calls,
			batches.Load())
	}
}

// TestBatchFallsBackToSingleCalls uses a signer that does not know the
// extension.
func TestBatchFallsBackToSingleCalls(t *testing.T) {
	s := newTestSigner(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		okAnswer(w, r)
	})
	c := newClient(t, s.srv.URL, nil, func(cfg *mediasign.SignerConfig) {
		cfg.Batch, cfg.MaxConcurrency = true, 1
	})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Sign(context.Background(), getReq(string(rune('a'+i)))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if !c.batchOff.Load() {
		t.Fatal("the client still uses the batch extension")
	}
}

// TestSignerIsToldTheValidity checks that each call carries the validity
// wanted as expires, in whole seconds.
func TestSignerIsToldTheValidity(t *testing.T) {
	var got atomic.Value
	s := newTestSigner(t, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.Query().Get("expires"))
		okAnswer(w, r)
	})
	c := newClient(t, s.srv.URL, nil, nil)
	req := getReq("k")
	req.Expires = 90 * time.Minute
	if _, err := c.Sign(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got.Load() != "5400" {
		t.Fatalf("expires = %v, want 5400", got.Load())
	}
}
