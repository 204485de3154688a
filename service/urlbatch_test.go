package service_test

import (
	"context"
	"testing"

	"github.com/mediasign/mediasign"
)

// TestBatchURLsAnswersAsSingleRequests asks a batch for files with and
// without thumbnails, files whose original or thumbnail cannot be signed,
// an unknown id and a repeated one, and compares each item with what a
// single request for its id answers.
func TestBatchURLsAnswersAsSingleRequests(t *testing.T) {
	ctx := context.Background()
	e := newBatchEnv(t)
	e.refs(t, "fail/a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg")
	// Every third file has a thumbnail; this last one's cannot be signed.
	_, err := e.store.AddMedia(ctx, []mediasign.MediaFile{{DatasetID: e.dataset.ID,
		ConnectionID: e.conn.ID, Bucket: "b", Key: "f.jpg", ThumbKey: "thumbs/fail.jpg",
		MediaType: "image/jpeg"}})
	must(t, err)
	all, err := e.store.MediaPage(ctx, e.dataset.ID, 0, 1<<62, 20, nil)
	must(t, err)

	var ids []int64
	for _, r := range all {
		ids = append(ids, r.ID)
	}
	ids = append(ids, all[1].ID, 1<<40)
	items, err := e.svc.BatchURLs(ctx, ids)
	must(t, err)

	for i, id := range ids {
		want, wantErr := e.svc.MediaURLs(ctx, id)
		got := items[i]
		if got.ID != id || mediasign.ErrorCode(got.Err) != mediasign.ErrorCode(wantErr) ||
			(got.Err == nil) != (wantErr == nil) {
			t.Errorf("item %d (id %d) = %+v, a single request says %+v, %v", i, id, got,
				want, wantErr)
			continue
		}
		if got.URLs != want {
			t.Errorf("item %d (id %d) URLs = %+v, a single request says %+v", i, id,
				got.URLs, want)
		}
	}
	if items[0].Err == nil || items[len(all)-1].Err == nil || items[1].URLs.URL == "" ||
		items[0].URLs.ThumbURL != "" {
		t.Errorf("failures did not stay with their items: %+v", items)
	}
}
