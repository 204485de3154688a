package export_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/internal/seed"
	"github.com/mediasign/mediasign/urlcache"
)

// smallPolicy is M = 100 s and N = 200 s; the export margin is then 50 s.
var smallPolicy = urlcache.Policy{MinValid: 100 * time.Second, NewValid: 200 * time.Second}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func fakeEnv(t *testing.T, opts envOptions) (*env, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.New(t0)
	opts.clock, opts.policy = clock, smallPolicy
	return newEnv(t, opts), clock
}

func seeded(t *testing.T, env *env, name string, n, thumbEvery int) *mediasign.Dataset {
	t.Helper()
	d := env.dataset(name)
	_, err := seed.Media(context.Background(), env.store, seed.Options{DatasetID: d.ID,
		ConnectionID: env.conn.ID, Bucket: env.bucket, Prefix: name + "/", Count: n,
		ThumbEvery: thumbEvery})
	must(t, err)
	return d
}

// signedAt reads the signing time of a SigV4 URL.
func signedAt(t *testing.T, u string) time.Time {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse("20060102T150405Z", parsed.Query().Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("URL %s has no X-Amz-Date: %v", u, err)
	}
	return at
}

// TestGuaranteeResignsWhatTheExportOutlasts moves the clock 30 s per page
// written, so the export outlasts the margin: the URLs of its first pages
// fall short of M at the end and the final check signs them again.
func TestGuaranteeResignsWhatTheExportOutlasts(t *testing.T) {
	env, clock := fakeEnv(t, envOptions{pageSize: 10})
	ds := seeded(t, env, "train", 50, 4)
	path := filepath.Join(t.TempDir(), "out.jsonl")

	res, err := env.tryExport([]*mediasign.Dataset{ds}, mediasign.ExportJSONLines, path,
		func(p export.Progress) {
			if p.Phase == export.PhaseWriting {
				clock.Advance(30 * time.Second)
			}
		})
	must(t, err)

	got := readExport(t, path, mediasign.ExportJSONLines)
	checkGuarantee(t, got, smallPolicy.MinValid, 50)
	end := clock.Now()
	if !got.Header.GeneratedAt.Equal(end) || got.Header.MinExpiresAt.Before(end.Add(smallPolicy.MinValid)) {
		t.Fatalf("header %+v: generated at %s, want every URL valid until %s", got.Header,
			end, end.Add(smallPolicy.MinValid))
	}
	if res.Resigned == 0 {
		t.Fatal("no entry was signed again, though the first page was signed 150 s before the end")
	}

	resigned := int64(0)
	for _, e := range got.Entries {
		if signedAt(t, e.URL).Equal(end) {
			resigned++
		}
		if e.ThumbURL != "" && !signedAt(t, e.ThumbURL).Equal(signedAt(t, e.URL)) {
			t.Errorf("entry %d: thumbnail and file signed at different times", e.ID)
		}
	}
	if resigned != res.Resigned {
		t.Errorf("%d entries are signed at the end, the result says %d were signed again",
			resigned, res.Resigned)
	}
}

// TestGuaranteeSkipsCachedURLsThatWouldFallShort fills the memory tier,
// then exports when the cached URLs are servable but have less than
// M + margin left (signed again) and when they have more (reused).
func TestGuaranteeSkipsCachedURLsThatWouldFallShort(t *testing.T) {
	for _, tc := range []struct {
		name       string
		age        time.Duration
		wantCached bool
	}{
		{"cached URLs with 190 s left are reused", 10 * time.Second, true},
		{"cached URLs with 110 s left are signed again", 90 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, clock := fakeEnv(t, envOptions{})
			ds := seeded(t, env, "train", 20, 0)
			cached := map[int64]string{}
			for id := int64(1); id <= 20; id++ {
				u, err := env.svc.MediaURLs(context.Background(), id)
				must(t, err)
				cached[id] = u.URL
			}
			clock.Advance(tc.age)

			path := filepath.Join(t.TempDir(), "out.json")
			res := env.export(t, []*mediasign.Dataset{ds}, mediasign.ExportJSON, path)
			got := readExport(t, path, mediasign.ExportJSON)
			checkGuarantee(t, got, smallPolicy.MinValid, 20)
			for _, e := range got.Entries {
				if reused := e.URL == cached[e.ID]; reused != tc.wantCached {
					t.Fatalf("entry %d reused the cached URL: %v, want %v", e.ID, reused, tc.wantCached)
				}
			}
			if wantSigned := map[bool]int64{true: 0, false: 20}[tc.wantCached]; res.Stats.Signed != wantSigned {
				t.Fatalf("stats %+v, want %d new URLs", res.Stats, wantSigned)
			}
		})
	}
}

// TestShortCredentialsFailClearly exports from a connection whose
// temporary credentials end before M + margin: no URL could keep the
// promise, so the export fails with a message that says why and leaves no
// file.
func TestShortCredentialsFailClearly(t *testing.T) {
	expires := t0.Add(smallPolicy.MinValid + 20*time.Second)
	env, _ := fakeEnv(t, envOptions{credentialsExpireAt: &expires})
	ds := seeded(t, env, "train", 5, 0)
	dir := t.TempDir()

	_, err := env.tryExport([]*mediasign.Dataset{ds}, mediasign.ExportJSONLines,
		filepath.Join(dir, "out.jsonl"), nil)
	msg := mediasign.PublicMessage(err)
	var short *urlcache.ShortURLError
	if !errors.As(err, &short) || !strings.Contains(msg, `connection "archive"`) ||
		!strings.Contains(msg, "credentials") {
		t.Fatalf("export = %v (public %q), want a message naming the connection and its credentials",
			err, msg)
	}
	assertEmptyDir(t, dir)
}

// TestPlanFixesWhatIsExported exports several datasets in small pages, in
// the order asked and by id within each, and leaves out media added after
// the plan was made.
func TestPlanFixesWhatIsExported(t *testing.T) {
	env, _ := fakeEnv(t, envOptions{pageSize: 7})
	a, b := seeded(t, env, "a", 23, 5), seeded(t, env, "b", 9, 0)
	empty := env.dataset("empty")
	datasets := []*mediasign.Dataset{b, empty, a}

	ctx := context.Background()
	plan, err := env.exporter.Plan(ctx, datasets)
	must(t, err)
	_, err = seed.Media(ctx, env.store, seed.Options{DatasetID: a.ID, ConnectionID: env.conn.ID,
		Bucket: env.bucket, Prefix: "late/", Count: 4})
	must(t, err)

	path := filepath.Join(t.TempDir(), "out.jsonl")
	res, err := env.exporter.Run(ctx, export.Request{Project: env.project, Datasets: datasets,
		Format: mediasign.ExportJSONLines, Path: path}, plan)
	must(t, err)
	got := readExport(t, path, mediasign.ExportJSONLines)
	checkGuarantee(t, got, smallPolicy.MinValid, 32)
	if plan.Total != 32 || res.Count != 32 {
		t.Fatalf("plan total %d, exported %d, want 32 each", plan.Total, res.Count)
	}

	prev := got.Entries[0]
	for i, e := range got.Entries {
		wantDataset := "b"
		if i >= 9 {
			wantDataset = "a"
		}
		if e.Dataset != wantDataset || strings.HasPrefix(e.Key, "late/") ||
			(i > 0 && e.Dataset == prev.Dataset && e.ID <= prev.ID) {
			t.Fatalf("entry %d = %s %d %s after %s %d, want datasets b then a, in id order",
				i, e.Dataset, e.ID, e.Key, prev.Dataset, prev.ID)
		}
		prev = e
	}
	names := []string{}
	for _, d := range got.Header.Datasets {
		names = append(names, d.Name)
	}
	if strings.Join(names, ",") != "b,empty,a" {
		t.Fatalf("header datasets = %v, want b, empty, a", names)
	}
}

// TestEmptyExport writes a valid file with no entries.
func TestEmptyExport(t *testing.T) {
	env, _ := fakeEnv(t, envOptions{})
	empty := env.dataset("empty")
	for _, format := range []mediasign.ExportFormat{mediasign.ExportJSON, mediasign.ExportJSONLines} {
		path := filepath.Join(t.TempDir(), "out"+export.Extension(format))
		env.export(t, []*mediasign.Dataset{empty}, format, path)
		checkGuarantee(t, readExport(t, path, format), smallPolicy.MinValid, 0)
	}
}

// TestCancelledExportLeavesNoFile cancels an export as its first page is
// written: the file is not there, nor any temporary file, and a new export
// of the same path succeeds.
func TestCancelledExportLeavesNoFile(t *testing.T) {
	env, _ := fakeEnv(t, envOptions{pageSize: 5})
	ds := seeded(t, env, "train", 40, 0)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")

	ctx, cancel := context.WithCancel(context.Background())
	plan, err := env.exporter.Plan(ctx, []*mediasign.Dataset{ds})
	must(t, err)
	_, err = env.exporter.Run(ctx, export.Request{Project: env.project,
		Datasets: []*mediasign.Dataset{ds}, Format: mediasign.ExportJSONLines, Path: path,
		Progress: func(export.Progress) { cancel() }}, plan)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled export = %v, want context.Canceled", err)
	}
	assertEmptyDir(t, dir)

	env.export(t, []*mediasign.Dataset{ds}, mediasign.ExportJSONLines, path)
	checkGuarantee(t, readExport(t, path, mediasign.ExportJSONLines), smallPolicy.MinValid, 40)
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		t.Errorf("%s holds %s after a failed export", dir, e.Name())
	}
}
