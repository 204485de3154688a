package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/mediasign/mediasign"
)

// testDatasetsWithObject checks the lookup of the datasets that hold one
// object: by connection, bucket and byte-exact key.
func testDatasetsWithObject(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	conn, ds := seedDataset(t, s)
	other := &mediasign.Dataset{ProjectID: ds.ProjectID, Name: "other"}
	mustDo(t, s.CreateDataset(ctx, other))
	conn2 := &mediasign.Connection{Name: "conn2", Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: "/srv2"}}
	mustDo(t, s.CreateConnection(ctx, conn2))

	files := mediaFiles(conn.ID, ds.ID, "a/1.jpg", "a/2.jpg")
	files = append(files, mediaFiles(conn.ID, other.ID, "a/1.jpg", "b/3.jpg")...)
	files = append(files, mediaFiles(conn2.ID, ds.ID, "c/4.jpg")...)
	inBucket := mediaFiles(conn.ID, other.ID, "c/4.jpg")
	inBucket[0].Bucket = "b2"
	files = append(files, inBucket...)
	_, err := s.AddMedia(ctx, files)
	mustDo(t, err)

	for _, tc := range []struct {
		conn   int64
		bucket string
		key    string
		want   []int64
	}{
		{conn.ID, "", "a/1.jpg", []int64{ds.ID, other.ID}},
		{conn.ID, "", "a/2.jpg", []int64{ds.ID}},
		{conn.ID, "", "b/3.jpg", []int64{other.ID}},
		{conn.ID, "", "c/4.jpg", nil},
		{conn2.ID, "", "c/4.jpg", []int64{ds.ID}},
		{conn.ID, "b2", "c/4.jpg", []int64{other.ID}},
		{conn.ID, "", "A/1.jpg", nil},
		{conn.ID, "", "a/1.jpg ", nil},
		{conn.ID, "", "a/%.jpg", nil},
	} {
		got, err := s.DatasetsWithObject(ctx, tc.conn, tc.bucket, tc.key)
		mustDo(t, err)
		if !slices.Equal(got, tc.want) {
			t.Errorf("DatasetsWithObject(%d, %q, %q) = %v, want %v", tc.conn, tc.bucket, tc.key,
				got, tc.want)
		}
	}
}
