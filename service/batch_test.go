package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/customsigner/customsignertest"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/service"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

const fakeProvider mediasign.Provider = "fake"

// fakeStorage signs URLs that name their key, and fails on keys that
// contain "fail".
type fakeStorage struct {
	clock *fakeclock.Clock
	signs atomic.Int64
}

func (f *fakeStorage) SignURL(ctx context.Context, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	f.signs.Add(1)
	if strings.Contains(req.Key, "fail") {
		return mediasign.SignedURL{}, errors.New("cannot sign " + req.Key)
	}
	return mediasign.SignedURL{URL: "https://fake.test/" + req.Bucket + "/" + req.Key,
		ExpiresAt: f.clock.Now().Add(req.Expires)}, nil
}

func (f *fakeStorage) MaxExpiry() time.Duration { return 7 * 24 * time.Hour }

func (f *fakeStorage) List(context.Context, string, string, func([]mediasign.Object) error) error {
	return nil
}

func (f *fakeStorage) Check(context.Context, string) error { return nil }

type batchEnv struct {
	svc     *service.Service
	store   mediasign.Store
	storage *fakeStorage
	clock   *fakeclock.Clock
	conn    *mediasign.Connection
	dataset *mediasign.Dataset
}

func newBatchEnv(t *testing.T) *batchEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	clock := fakeclock.New(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	e := &batchEnv{store: st, storage: &fakeStorage{clock: clock}, clock: clock}
	cache := urlcache.New(urlcache.Options{Policy: urlcache.DefaultPolicy(), Store: st, Clock: clock})
	e.svc = service.New(service.Options{Store: st, Cache: cache, Clock: clock,
		Drivers: service.Drivers{fakeProvider: {
			Validate: func(*mediasign.Connection) error { return nil },
			Open:     func(*mediasign.Connection) (mediasign.Storage, error) { return e.storage, nil },
		}}})

	e.conn = &mediasign.Connection{Name: "fake", Provider: fakeProvider}
	must(t, e.svc.AddConnection(ctx, e.conn))
	p, err := e.svc.AddProject(ctx, "p")
	must(t, err)
	e.dataset, err = e.svc.AddDataset(ctx, p.ID, "d")
	must(t, err)
	return e
}

// refs adds media files with the given keys, every third with a thumbnail,
// and returns them as the store pages them.
func (e *batchEnv) refs(t *testing.T, keys ...string) []mediasign.MediaRef {
	t.Helper()
	ctx := context.Background()
	files := make([]mediasign.MediaFile, len(keys))
	for i, k := range keys {
		files[i] = mediasign.MediaFile{DatasetID: e.dataset.ID, ConnectionID: e.conn.ID,
			Bucket: "b", Key: k, MediaType: "image/jpeg"}
		if i%3 == 0 {
			files[i].ThumbKey = "thumbs/" + k
		}
	}
	_, err := e.store.AddMedia(ctx, files)
	must(t, err)
	refs, err := e.store.MediaPage(ctx, e.dataset.ID, 0, 1<<62, len(keys)+10, nil)
	must(t, err)
	return refs
}

func TestMediaSignerKeepsOrderAndThumbnails(t *testing.T) {
	e := newBatchEnv(t)
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("img/%02d.jpg", i)
	}
	refs := e.refs(t, keys...)

	for _, workers := range []int{1, 3, 64} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			m := e.svc.NewMediaSigner(context.Background(), service.BatchOptions{Workers: workers})
			out := make([]service.MediaURLs, len(refs))
			must(t, m.Sign(context.Background(), refs, out))
			stats := m.Close()

			for i, r := range refs {
				if out[i].ID != r.ID || out[i].URL != "https://fake.test/b/"+r.Key {
					t.Fatalf("out[%d] = %+v, want the URL of %s", i, out[i], r.Key)
				}
				wantThumb := ""
				if r.ThumbKey != "" {
					wantThumb = "https://fake.test/b/" + r.ThumbKey
				}
				if out[i].ThumbURL != wantThumb {
					t.Fatalf("out[%d].ThumbURL = %q, want %q", i, out[i].ThumbURL, wantThumb)
				}
			}
			if stats.Signed != 67 || stats.Cached != 0 {
				t.Fatalf("stats = %+v, want 67 new URLs (50 files, 17 thumbnails)", stats)
			}
		})
	}
}

// TestMediaSignerReusesOnlyWhatLasts serves URLs from the memory tier when
// they last M + Extra, and refuses when not even a new URL would.
func TestMediaSignerReusesOnlyWhatLasts(t *testing.T) {
	e := newBatchEnv(t)
	ctx := context.Background()
	refs := e.refs(t, "a.jpg", "b.jpg")
	first, err := e.svc.MediaURLs(ctx, refs[1].ID)
	must(t, err)

	// A URL signed for N = 6 days has a day beyond M = 5 days.
	m := e.svc.NewMediaSigner(ctx, service.BatchOptions{Extra: time.Hour})
	out := make([]service.MediaURLs, len(refs))
	must(t, m.Sign(ctx, refs, out))
	st := m.Close()
	if out[1].URL != first.URL || st.Cached != 1 || st.Signed != 2 {
		t.Fatalf("b.jpg = %s with stats %+v, want the cached %s and a.jpg with its thumbnail new",
			out[1].URL, st, first.URL)
	}

	// Nothing lasts M + 25 hours, not even a new URL.
	m = e.svc.NewMediaSigner(ctx, service.BatchOptions{Extra: 25 * time.Hour})
	defer m.Close()
	err = m.Sign(ctx, refs, out)
	var short *urlcache.ShortURLError
	if !errors.As(err, &short) || mediasign.ErrorCode(err) != mediasign.CodeUnavailable ||
		!strings.Contains(mediasign.PublicMessage(err), `connection "fake"`) {
		t.Fatalf("Sign with 25 h beyond M = %v, want an unavailable error naming the connection", err)
	}
}

func TestMediaSignerStopsAtFirstError(t *testing.T) {
	e := newBatchEnv(t)
	refs := e.refs(t, "ok-1.jpg", "ok-2.jpg", "fail.jpg", "ok-3.jpg")
	m := e.svc.NewMediaSigner(context.Background(), service.BatchOptions{Workers: 2})
	defer m.Close()

	err := m.Sign(context.Background(), refs, make([]service.MediaURLs, len(refs)))
	if err == nil || !strings.Contains(err.Error(), "cannot sign fail.jpg") {
		t.Fatalf("Sign = %v, want the signing error of fail.jpg", err)
	}
}

// serviceToken is the signer service token of the test connections.
const serviceToken = "svc-token-1"

// keySigner is a custom URL signer that counts the keys it signs for each
// credential, and how many calls it has in flight at most.
type keySigner struct {
	clock   mediasign.Clock
	valid   time.Duration
	latency time.Duration

	mu       sync.Mutex
	keys     map[string]int // by credential
	calls    int
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

func newKeySigner(clock mediasign.Clock, valid, latency time.Duration) *keySigner {
	return &keySigner{clock: clock, valid: valid, latency: latency, keys: make(map[string]int)}
}

// credential is what a request carries: its cookie or Authorization.
func credential(r *http.Request) string {
	if c := r.Header.Get("Cookie"); c != "" {
		return c
	}
	return r.Header.Get("Authorization")
}

func (k *keySigner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := k.inFlight.Add(1)
	defer k.inFlight.Add(-1)
	for m := k.maxIn.Load(); n > m && !k.maxIn.CompareAndSwap(m, n); m = k.maxIn.Load() {
	}
	time.Sleep(k.latency)

	bucket := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	exp := k.clock.Now().Add(k.valid).UTC()
	keys := []string{r.URL.Query().Get("key")}
	if r.Method == http.MethodPost {
		var body struct {
			Items []struct{ Key string } `json:"items"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			customsignertest.WriteJSON(w, 400, map[string]string{"error": "bad batch"})
			return
		}
		keys = keys[:0]
		for _, it := range body.Items {
			keys = append(keys, it.Key)
		}
	}
	k.mu.Lock()
	k.keys[credential(r)] += len(keys)
	k.calls++
	k.mu.Unlock()

	results := make([]map[string]any, len(keys))
	for i, key := range keys {
		results[i] = map[string]any{"expires_at": exp,
			"url": customsignertest.SignedURL(bucket, key, customsignertest.Caller(r))}
	}
	if r.Method == http.MethodPost {
		customsignertest.WriteJSON(w, 200, map[string]any{"results": results})
		return
	}
	customsignertest.WriteJSON(w, 200, results[0])
}

// counts returns the keys signed per credential and the calls made.
func (k *keySigner) counts() (map[string]int, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.keys))
	for c, n := range k.keys {
		out[c] = n
	}
	return out, k.calls
}

// signerConn adds a connection with a custom signer served by k, and media
// files of it, and returns them.
func (e *batchEnv) signerConn(t *testing.T, k *keySigner, cfg mediasign.SignerConfig,
	n int) []mediasign.MediaRef {
	t.Helper()
	ctx := context.Background()
	srv := customsignertest.NewSigner(t, k.ServeHTTP)
	cfg.URL = srv.URL
	conn := &mediasign.Connection{Name: "signed", Provider: fakeProvider, Signer: &cfg}
	must(t, e.svc.AddConnection(ctx, conn))
	d, err := e.svc.AddDataset(ctx, e.dataset.ProjectID, "signed-d")
	must(t, err)

	files := make([]mediasign.MediaFile, n)
	for i := range files {
		files[i] = mediasign.MediaFile{DatasetID: d.ID, ConnectionID: conn.ID, Bucket: "b",
			Key: fmt.Sprintf("s/%03d.jpg", i), MediaType: "image/jpeg"}
		if i%4 == 0 {
			files[i].ThumbKey = fmt.Sprintf("s/thumb-%03d.jpg", i)
		}
	}
	_, err = e.store.AddMedia(ctx, files)
	must(t, err)
	refs, err := e.store.MediaPage(ctx, d.ID, 0, 1<<62, n+10, nil)
	must(t, err)
	return refs
}

func sessionCaller(id int64, sessionID string) context.Context {
	return mediasign.WithCaller(context.Background(), mediasign.Caller{UserID: id,
		UserName: fmt.Sprintf("user%d", id), Method: mediasign.AuthSession, Credential: sessionID})
}

func urlCount(refs []mediasign.MediaRef) int {
	n := len(refs)
	for _, r := range refs {
		if r.ThumbKey != "" {
			n++
		}
	}
	return n
}

// TestMediaSignerForwardsThenFallsBack signs with the requester's session
// while it lasts, through the batch extension and concurrently, and with
// the service token once it has ended, under the service cache scope.
func TestMediaSignerForwardsThenFallsBack(t *testing.T) {
	e := newBatchEnv(t)
	k := newKeySigner(e.clock, 7*24*time.Hour, 20*time.Millisecond)
	refs := e.signerConn(t, k, mediasign.SignerConfig{ServiceToken: serviceToken, Batch: true,
		MaxConcurrency: 4}, 200)
	ctx := sessionCaller(7, "session-of-seven")
	m := e.svc.NewMediaSigner(ctx, service.BatchOptions{Extra: time.Hour,
		CredentialUntil: e.clock.Now().Add(time.Hour)})
	defer m.Close()

	out := make([]service.MediaURLs, len(refs))
	must(t, m.Sign(ctx, refs, out))
	keys, calls := k.counts()
	want := urlCount(refs)
	if keys["mediasign_session=session-of-seven"] != want || len(keys) != 1 {
		t.Fatalf("keys by credential = %v, want all %d with the user's session cookie", keys, want)
	}
	if calls >= want || k.maxIn.Load() < 2 {
		t.Fatalf("%d calls for %d keys, at most %d at once: want batch calls side by side",
			calls, want, k.maxIn.Load())
	}

	e.clock.Advance(2 * time.Hour)
	must(t, m.Sign(ctx, refs, out))
	keys, _ = k.counts()
	if keys["Bearer "+serviceToken] != want {
		t.Fatalf("keys by credential after the session ended = %v, want %d with the service "+
			"token (the user's URLs are not the service's)", keys, want)
	}
	if !strings.Contains(out[0].URL, "sig-") {
		t.Fatalf("url %q does not come from the signer", out[0].URL)
	}
}

// TestMediaSignerNeedsAnIdentity fails at once, naming the connection, when
// neither the requester's credential nor a service token can be used.
func TestMediaSignerNeedsAnIdentity(t *testing.T) {
	e := newBatchEnv(t)
	k := newKeySigner(e.clock, 7*24*time.Hour, 0)
	refs := e.signerConn(t, k, mediasign.SignerConfig{}, 5)

	for name, ctx := range map[string]context.Context{
		"no user": mediasign.WithCaller(context.Background(), mediasign.Caller{
			Method: mediasign.AuthAPIToken, TokenProjectID: 1, TokenRole: mediasign.RoleAdmin}),
		"ended session": sessionCaller(7, "session-of-seven"),
	} {
		t.Run(name, func(t *testing.T) {
			m := e.svc.NewMediaSigner(ctx, service.BatchOptions{
				CredentialUntil: e.clock.Now().Add(-time.Second)})
			defer m.Close()
			err := m.Sign(ctx, refs, make([]service.MediaURLs, len(refs)))
			msg := mediasign.PublicMessage(err)
			if mediasign.ErrorCode(err) != mediasign.CodeInvalid ||
				!strings.Contains(msg, `"signed"`) || !strings.Contains(msg, "service_token") {
				t.Fatalf("Sign = %v (%q), want a refusal naming the connection and "+
					"service_token", err, msg)
			}
		})
	}
	if _, calls := k.counts(); calls != 0 {
		t.Fatalf("the signer was called %d times, want none", calls)
	}
}

// TestMediaSignerKeepsUsersApart never serves one user's URLs to another,
// in either direction between batches and single requests.
func TestMediaSignerKeepsUsersApart(t *testing.T) {
	e := newBatchEnv(t)
	k := newKeySigner(e.clock, 7*24*time.Hour, 0)
	refs := e.signerConn(t, k, mediasign.SignerConfig{ServiceToken: serviceToken}, 3)
	until := e.clock.Now().Add(time.Hour)
	alice, bob := sessionCaller(1, "session-alice"), sessionCaller(2, "session-bob")

	batch := func(ctx context.Context) []service.MediaURLs {
		m := e.svc.NewMediaSigner(ctx, service.BatchOptions{CredentialUntil: until})
		defer m.Close()
		out := make([]service.MediaURLs, len(refs))
		must(t, m.Sign(ctx, refs, out))
		return out
	}
	single := func(ctx context.Context) service.MediaURLs {
		u, err := e.svc.MediaURLs(ctx, refs[0].ID)
		must(t, err)
		return u
	}

	a := batch(alice)
	b := single(bob)
	if b.URL == a[0].URL {
		t.Fatalf("bob was served alice's export URL %s", b.URL)
	}
	b2 := batch(bob)
	if b2[0].URL != b.URL || b2[1].URL == a[1].URL {
		t.Fatalf("bob's batch = %s, %s; want his own cached %s, and not alice's %s",
			b2[0].URL, b2[1].URL, b.URL, a[1].URL)
	}
	if a2 := single(alice); a2.URL != a[0].URL {
		t.Fatalf("alice's request got %s, want her own export URL %s", a2.URL, a[0].URL)
	}
}

// TestMediaSignerRefusesShortSignerURLs fails clearly when the signer's
// URLs expire before M + Extra.
func TestMediaSignerRefusesShortSignerURLs(t *testing.T) {
	e := newBatchEnv(t)
	k := newKeySigner(e.clock, 24*time.Hour, 0)
	refs := e.signerConn(t, k, mediasign.SignerConfig{ServiceToken: serviceToken}, 3)
	ctx := context.Background()
	m := e.svc.NewMediaSigner(ctx, service.BatchOptions{Extra: time.Hour})
	defer m.Close()

	err := m.Sign(ctx, refs, make([]service.MediaURLs, len(refs)))
	msg := mediasign.PublicMessage(err)
	if mediasign.ErrorCode(err) != mediasign.CodeUnavailable || !strings.Contains(msg, `"signed"`) ||
		!strings.Contains(msg, "custom URL signer") {
		t.Fatalf("Sign with 1-day signer URLs = %v (%q), want an unavailable error naming the "+
			"connection and its signer", err, msg)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
