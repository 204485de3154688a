package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// exportTests are the conformance tests of export jobs, the catalog reads
// of exports and the batched URL cache.
var exportTests = []struct {
	name string
	fn   func(t *testing.T, s mediasign.Store)
}{
	{"Exports", testExports},
	{"ExportEndsOnce", testExportEndsOnce},
	{"ExportObjectKey", testExportObjectKey},
	{"FailStaleExports", testFailStaleExports},
	{"MediaSnapshotAndPages", testMediaPages},
	{"CachedURLBatches", testCachedURLBatches},
}

func newExport(t *testing.T, s mediasign.Store, projectID int64, datasets ...int64) *mediasign.Export {
	t.Helper()
	e := &mediasign.Export{ProjectID: projectID, DatasetIDs: datasets,
		Format: mediasign.ExportJSONLines, Total: 7, Owner: "host-1/abc"}
	mustDo(t, s.CreateExport(context.Background(), e))
	if e.ID == 0 || e.CreatedAt.IsZero() || e.State != mediasign.ExportRunning {
		t.Fatalf("created export = %+v, want an ID, a time and state running", e)
	}
	return e
}

func testExports(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	_, ds := seedDataset(t, s)
	other := &mediasign.Dataset{ProjectID: ds.ProjectID, Name: "second"}
	mustDo(t, s.CreateDataset(ctx, other))
	first := newExport(t, s, ds.ProjectID, ds.ID, other.ID)
	second := newExport(t, s, ds.ProjectID, ds.ID)

	got, err := s.Export(ctx, first.ID)
	mustDo(t, err)
	if fmt.Sprint(got.DatasetIDs) != fmt.Sprint([]int64{ds.ID, other.ID}) ||
		got.Format != mediasign.ExportJSONLines || got.Total != 7 || got.Owner != "host-1/abc" ||
		got.State != mediasign.ExportRunning || !got.FinishedAt.IsZero() {
		t.Fatalf("Export(%d) = %+v", first.ID, got)
	}

	list, err := s.ListExports(ctx, ds.ProjectID)
	mustDo(t, err)
	if len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
		t.Fatalf("ListExports = %d exports, want the two newest first", len(list))
	}
	none, err := s.ListExports(ctx, ds.ProjectID+100)
	mustDo(t, err)
	if len(none) != 0 {
		t.Fatalf("ListExports of another project = %d exports, want 0", len(none))
	}

	beat := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	mustDo(t, s.UpdateExportProgress(ctx, first.ID, 5, beat))
	got, err = s.Export(ctx, first.ID)
	mustDo(t, err)
	if got.Written != 5 || !got.HeartbeatAt.Equal(beat) {
		t.Fatalf("after progress: written %d heartbeat %s, want 5 and %s", got.Written,
			got.HeartbeatAt, beat)
	}

	mustDo(t, s.DeleteExport(ctx, second.ID))
	wantCode(t, s.DeleteExport(ctx, second.ID), mediasign.CodeNotFound)
	_, err = s.Export(ctx, second.ID)
	wantCode(t, err, mediasign.CodeNotFound)
	wantCode(t, s.UpdateExportProgress(ctx, second.ID, 1, beat), mediasign.CodeNotFound)

	// A deleted export's ID is never given again: an old link must not
	// reach a newer export.
	third := newExport(t, s, ds.ProjectID, ds.ID)
	if third.ID == second.ID {
		t.Fatalf("a new export reused the ID %d of a deleted one", second.ID)
	}
}

func testExportEndsOnce(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	_, ds := seedDataset(t, s)
	e := newExport(t, s, ds.ProjectID, ds.ID)

	end := time.Date(2026, 6, 1, 11, 0, 0, 0, time.UTC)
	minExp := end.Add(5 * 24 * time.Hour)
	done := *e
	done.State, done.Written, done.Resigned, done.Size = mediasign.ExportDone, 7, 2, 4096
	done.MinExpiresAt, done.FinishedAt = minExp, end
	mustDo(t, s.FinishExport(ctx, &done))

	got, err := s.Export(ctx, e.ID)
	mustDo(t, err)
	if got.State != mediasign.ExportDone || got.Written != 7 || got.Resigned != 2 ||
		got.Size != 4096 || !got.MinExpiresAt.Equal(minExp) || !got.FinishedAt.Equal(end) {
		t.Fatalf("finished export = %+v", got)
	}

	failed := *e
	failed.State, failed.Error, failed.FinishedAt = mediasign.ExportFailed, "late", end
	wantCode(t, s.FinishExport(ctx, &failed), mediasign.CodeNotFound)
	wantCode(t, s.UpdateExportProgress(ctx, e.ID, 1, end), mediasign.CodeNotFound)
	got, err = s.Export(ctx, e.ID)
	mustDo(t, err)
	if got.State != mediasign.ExportDone || got.Error != "" {
		t.Fatalf("a second end changed a done export: %+v", got)
	}

	running := *e
	running.ID = newExport(t, s, ds.ProjectID, ds.ID).ID
	if err := s.FinishExport(ctx, &running); err == nil {
		t.Fatal("FinishExport accepted the state running as an end")
	}
}

func testFailStaleExports(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	_, ds := seedDataset(t, s)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

	stale := newExport(t, s, ds.ProjectID, ds.ID)
	mustDo(t, s.UpdateExportProgress(ctx, stale.ID, 3, now.Add(-time.Minute)))
	live := newExport(t, s, ds.ProjectID, ds.ID)
	mustDo(t, s.UpdateExportProgress(ctx, live.ID, 3, now))
	finished := newExport(t, s, ds.ProjectID, ds.ID)
	mustDo(t, s.UpdateExportProgress(ctx, finished.ID, 3, now.Add(-time.Hour)))
	finished.State, finished.FinishedAt = mediasign.ExportDone, now.Add(-time.Hour)
	mustDo(t, s.FinishExport(ctx, finished))

	ids, err := s.FailStaleExports(ctx, now.Add(-10*time.Second), "process stopped", now)
	mustDo(t, err)
	if fmt.Sprint(ids) != fmt.Sprint([]int64{stale.ID}) {
		t.Fatalf("FailStaleExports = %v, want only the stale export %d", ids, stale.ID)
	}

	for _, tc := range []struct {
		id    int64
		state mediasign.ExportState
		err   string
	}{
		{stale.ID, mediasign.ExportFailed, "process stopped"},
		{live.ID, mediasign.ExportRunning, ""},
		{finished.ID, mediasign.ExportDone, ""},
	} {
		got, err := s.Export(ctx, tc.id)
		mustDo(t, err)
		if got.State != tc.state || got.Error != tc.err {
			t.Errorf("export %d = %s %q, want %s %q", tc.id, got.State, got.Error, tc.state, tc.err)
		}
	}
	got, err := s.Export(ctx, stale.ID)
	mustDo(t, err)
	if !got.FinishedAt.Equal(now) {
		t.Errorf("failed export finished at %s, want %s", got.FinishedAt, now)
	}
}

func testMediaPages(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	conn, ds := seedDataset(t, s)
	other := &mediasign.Dataset{ProjectID: ds.ProjectID, Name: "other"}
	mustDo(t, s.CreateDataset(ctx, other))

	count, last, err := s.MediaSnapshot(ctx, ds.ID)
	mustDo(t, err)
	if count != 0 || last != 0 {
		t.Fatalf("MediaSnapshot of an empty dataset = %d, %d, want 0, 0", count, last)
	}

	for i := range 6 {
		mustAdd(t, s, mediaFiles(conn.ID, ds.ID, fmt.Sprintf("d/%d.jpg", i)))
		mustAdd(t, s, mediaFiles(conn.ID, other.ID, fmt.Sprintf("o/%d.jpg", i)))
	}
	count, last, err = s.MediaSnapshot(ctx, ds.ID)
	mustDo(t, err)
	all, err := s.ListMedia(ctx, ds.ID, 0, 100)
	mustDo(t, err)
	if count != 6 || last != all[5].ID {
		t.Fatalf("MediaSnapshot = %d, %d, want 6 and the last id %d", count, last, all[5].ID)
	}
	mustDo(t, s.UpdateConnection(ctx, conn))

	buf := []mediasign.MediaRef{{MediaFile: mediasign.MediaFile{Key: "kept"}}}
	buf, err = s.MediaPage(ctx, ds.ID, all[0].ID, all[4].ID, 2, buf)
	mustDo(t, err)
	if len(buf) != 3 || buf[0].Key != "kept" || buf[1].ID != all[1].ID || buf[2].ID != all[2].ID {
		t.Fatalf("MediaPage after %d, limit 2 appended %+v", all[0].ID, buf[1:])
	}
	if buf[1].ConnectionRevision != 2 || buf[1].Key != "d/1.jpg" || buf[1].Size != 1234 {
		t.Fatalf("MediaPage entry = %+v, want key d/1.jpg, size and revision 2", buf[1])
	}

	rest, err := s.MediaPage(ctx, ds.ID, all[2].ID, all[4].ID, 10, nil)
	mustDo(t, err)
	if len(rest) != 2 || rest[1].ID != all[4].ID {
		t.Fatalf("MediaPage through %d gave %d entries, want 2 ending at it", all[4].ID, len(rest))
	}
}

func mustAdd(t *testing.T, s mediasign.Store, files []mediasign.MediaFile) {
	t.Helper()
	_, err := s.AddMedia(context.Background(), files)
	mustDo(t, err)
}

func testCachedURLBatches(t *testing.T, s mediasign.Store) {
	bs, ok := s.(mediasign.URLCacheBatchStore)
	if !ok {
		t.Skip("skipping: this store reads and writes cached URLs one by one")
	}
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

	var batch []*mediasign.CachedURL
	for i := range 1203 {
		batch = append(batch, &mediasign.CachedURL{Key: fmt.Sprintf("k%04d", i),
			URL: fmt.Sprintf("https://h/b/%d?sig=1", i), ExpiresAt: now.Add(time.Duration(i) * time.Second),
			CreatedAt: now})
	}
	batch[7].Headers = map[string]string{"Content-Type": "image/png"}
	dup := &mediasign.CachedURL{Key: "k0001", URL: "https://h/b/again", ExpiresAt: now.Add(time.Hour),
		CreatedAt: now}
	mustDo(t, bs.PutCachedURLs(ctx, append(batch, dup)))

	keys := []string{"missing", "k0001", "k0007", "k1202"}
	for i := range 600 {
		keys = append(keys, fmt.Sprintf("absent-%d", i))
	}
	got, err := bs.CachedURLs(ctx, keys)
	mustDo(t, err)
	byKey := map[string]*mediasign.CachedURL{}
	for _, u := range got {
		byKey[u.Key] = u
	}
	if len(got) != 3 || byKey["k0001"].URL != "https://h/b/again" ||
		byKey["k0007"].Headers["Content-Type"] != "image/png" ||
		!byKey["k1202"].ExpiresAt.Equal(now.Add(1202*time.Second)) {
		t.Fatalf("CachedURLs = %d entries %v, want k0001 (the later write), k0007, k1202", len(got), byKey)
	}

	one, err := s.CachedURL(ctx, "k0500")
	mustDo(t, err)
	if one.URL != "https://h/b/500?sig=1" {
		t.Fatalf("CachedURL(k0500) = %q after a batch write", one.URL)
	}
	mustDo(t, bs.PutCachedURLs(ctx, nil))
}

// testExportObjectKey checks that the key of a finished export's file in a
// bucket is kept, in the read of one export and in the list, and that an
// export finished without one reads back empty.
func testExportObjectKey(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	_, ds := seedDataset(t, s)
	stored, local := newExport(t, s, ds.ProjectID, ds.ID), newExport(t, s, ds.ProjectID, ds.ID)

	key := fmt.Sprintf("exports/%d-x y/ü.jsonl", stored.ID)
	done := *stored
	done.State, done.ObjectKey, done.FinishedAt = mediasign.ExportDone, key, time.Now()
	mustDo(t, s.FinishExport(ctx, &done))
	plain := *local
	plain.State, plain.FinishedAt = mediasign.ExportDone, time.Now()
	mustDo(t, s.FinishExport(ctx, &plain))

	got, err := s.Export(ctx, stored.ID)
	mustDo(t, err)
	if got.ObjectKey != key {
		t.Fatalf("ObjectKey = %q, want %q", got.ObjectKey, key)
	}
	list, err := s.ListExports(ctx, ds.ProjectID)
	mustDo(t, err)
	keys := map[int64]string{}
	for _, e := range list {
		keys[e.ID] = e.ObjectKey
	}
	if keys[stored.ID] != key || keys[local.ID] != "" {
		t.Fatalf("listed object keys = %v, want %q for %d and none for %d", keys, key,
			stored.ID, local.ID)
	}
}
