package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
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

func TestMediaSignerRefusesCustomSigners(t *testing.T) {
	e := newBatchEnv(t)
	ctx := context.Background()
	conn := &mediasign.Connection{Name: "custom", Provider: fakeProvider,
		Signer: &mediasign.SignerConfig{URL: "http://127.0.0.1:9/sign"}}
	must(t, e.store.CreateConnection(ctx, conn))
	if stored, err := e.store.Connection(ctx, conn.ID); err != nil || stored.Signer == nil {
		t.Skipf("skipping: the store does not keep custom signer settings yet (%v)", err)
	}
	_, err := e.store.AddMedia(ctx, []mediasign.MediaFile{{DatasetID: e.dataset.ID,
		ConnectionID: conn.ID, Bucket: "b", Key: "x.jpg", MediaType: "image/jpeg"}})
	must(t, err)
	refs, err := e.store.MediaPage(ctx, e.dataset.ID, 0, 1<<62, 10, nil)
	must(t, err)

	m := e.svc.NewMediaSigner(ctx, service.BatchOptions{})
	defer m.Close()
	err = m.Sign(ctx, refs, make([]service.MediaURLs, len(refs)))
	if mediasign.ErrorCode(err) != mediasign.CodeInvalid ||
		!strings.Contains(mediasign.PublicMessage(err), "custom URL signer") {
		t.Fatalf("Sign on a custom signer connection = %v, want a clear refusal", err)
	}
	if e.storage.signs.Load() != 0 {
		t.Fatal("a URL was signed on a custom signer connection")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
