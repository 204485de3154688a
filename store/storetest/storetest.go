// Package storetest is the conformance suite that every mediasign.Store
// backend passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// Opener returns a new, empty store for one test; the suite closes it.
type Opener func(t *testing.T) mediasign.Store

// Run runs the conformance suite against the stores that open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s mediasign.Store)
	}{
		{"Connections", testConnections},
		{"ConnectionConflict", testConnectionConflict},
		{"ConnectionSignerSettings", testConnectionSigner},
		{"ProjectsAndDatasets", testProjectsAndDatasets},
		{"AddMediaIsIdempotent", testAddMediaIdempotent},
		{"MediaKeysAreByteExact", testMediaKeysByteExact},
		{"MediaBatch", testMediaBatch},
		{"ListMediaPages", testListMediaPages},
		{"MediaCarriesConnectionRevision", testMediaRevision},
		{"DatasetsWithObject", testDatasetsWithObject},
		{"CachedURLs", testCachedURLs},
		{"Settings", testSettings},
	}
	tests = append(tests, identityTests...)
	tests = append(tests, exportTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

func testConnectionSigner(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	signer := &mediasign.SignerConfig{URL: "https://signer.example.com/sign", Forward: "bearer",
		CookieName: "sid", ServiceToken: "service-token", CacheScope: "shared", Batch: true,
		TimeoutMS: 2500, MaxConcurrency: 7}
	c := &mediasign.Connection{Name: "signed", Provider: mediasign.ProviderS3,
		S3: &mediasign.S3Config{AccessKeyID: "AKIAEXAMPLEKEY00001", SecretAccessKey: "example-secret",
			Region: "eu-north-1"}, Signer: signer}
	mustDo(t, s.CreateConnection(ctx, c))

	got, err := s.ConnectionByName(ctx, "signed")
	mustDo(t, err)
	if got.Signer == nil || *got.Signer != *signer {
		t.Fatalf("signer settings after a round trip = %+v, want %+v", got.Signer, signer)
	}

	got.Signer = nil
	mustDo(t, s.UpdateConnection(ctx, got))
	again, err := s.Connection(ctx, got.ID)
	mustDo(t, err)
	if again.Signer != nil {
		t.Fatalf("removed signer settings came back: %+v", again.Signer)
	}
}

func testConnections(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &mediasign.Connection{Name: "media", Provider: mediasign.ProviderS3,
		S3: &mediasign.S3Config{AccessKeyID: "AKIAEXAMPLEKEY00001", SecretAccessKey: "example-secret",
			SessionToken: "tok/+=", CredentialsExpireAt: &exp, Region: "eu-north-1",
			Endpoint: "http://127.0.0.1:9000", PathStyle: true}}
	mustDo(t, s.CreateConnection(ctx, c))
	if c.ID == 0 || c.Revision != 1 || c.CreatedAt.IsZero() {
		t.Fatalf("created connection = %+v, want an ID, revision 1 and a time", c)
	}

	got, err := s.Connection(ctx, c.ID)
	mustDo(t, err)
	if got.Name != "media" || got.S3 == nil || *got.S3.CredentialsExpireAt != exp ||
		got.S3.SecretAccessKey != "example-secret" || got.S3.SessionToken != "tok/+=" {
		t.Fatalf("Connection(%d) = %+v %+v", c.ID, got, got.S3)
	}

	byName, err := s.ConnectionByName(ctx, "media")
	mustDo(t, err)
	if byName.ID != c.ID {
		t.Fatalf("ConnectionByName id = %d, want %d", byName.ID, c.ID)
	}

	c.S3.Region = "us-east-1"
	mustDo(t, s.UpdateConnection(ctx, c))
	got, err = s.Connection(ctx, c.ID)
	mustDo(t, err)
	if got.Revision != 2 || got.S3.Region != "us-east-1" {
		t.Fatalf("after update: revision %d region %q, want 2 us-east-1", got.Revision, got.S3.Region)
	}

	local := &mediasign.Connection{Name: "disk", Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: "/srv/media"}}
	mustDo(t, s.CreateConnection(ctx, local))
	list, err := s.ListConnections(ctx)
	mustDo(t, err)
	if len(list) != 2 || list[0].Name != "disk" || list[1].Name != "media" {
		t.Fatalf("ListConnections = %v, want disk and media in name order", names(list))
	}

	_, err = s.Connection(ctx, 424242)
	wantCode(t, err, mediasign.CodeNotFound)
	_, err = s.ConnectionByName(ctx, "nope")
	wantCode(t, err, mediasign.CodeNotFound)
	err = s.UpdateConnection(ctx, &mediasign.Connection{ID: 424242, Name: "x", Provider: "s3"})
	wantCode(t, err, mediasign.CodeNotFound)
}

func testConnectionConflict(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	first := &mediasign.Connection{Name: "same", Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: "/a"}}
	mustDo(t, s.CreateConnection(ctx, first))

	second := &mediasign.Connection{Name: "same", Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: "/b"}}
	wantCode(t, s.CreateConnection(ctx, second), mediasign.CodeConflict)

	got, err := s.ConnectionByName(ctx, "same")
	mustDo(t, err)
	if got.Local.Root != "/a" {
		t.Fatalf("a failed create changed the stored connection: root %q", got.Local.Root)
	}
}

func testProjectsAndDatasets(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	p := &mediasign.Project{Name: "birds"}
	mustDo(t, s.CreateProject(ctx, p))
	wantCode(t, s.CreateProject(ctx, &mediasign.Project{Name: "birds"}), mediasign.CodeConflict)

	got, err := s.ProjectByName(ctx, "birds")
	mustDo(t, err)
	if got.ID != p.ID {
		t.Fatalf("ProjectByName id = %d, want %d", got.ID, p.ID)
	}
	_, err = s.Project(ctx, p.ID+100)
	wantCode(t, err, mediasign.CodeNotFound)

	other := &mediasign.Project{Name: "fish"}
	mustDo(t, s.CreateProject(ctx, other))
	d := &mediasign.Dataset{ProjectID: p.ID, Name: "train"}
	mustDo(t, s.CreateDataset(ctx, d))
	mustDo(t, s.CreateDataset(ctx, &mediasign.Dataset{ProjectID: other.ID, Name: "train"}))
	wantCode(t, s.CreateDataset(ctx, &mediasign.Dataset{ProjectID: p.ID, Name: "train"}),
		mediasign.CodeConflict)

	byName, err := s.DatasetByName(ctx, p.ID, "train")
	mustDo(t, err)
	if byName.ID != d.ID {
		t.Fatalf("DatasetByName id = %d, want %d", byName.ID, d.ID)
	}
	list, err := s.ListDatasets(ctx, p.ID)
	mustDo(t, err)
	if len(list) != 1 {
		t.Fatalf("ListDatasets(%d) has %d datasets, want 1", p.ID, len(list))
	}
	projects, err := s.ListProjects(ctx)
	mustDo(t, err)
	if len(projects) != 2 || projects[0].Name != "birds" {
		t.Fatalf("ListProjects = %d projects, want birds and fish", len(projects))
	}
}

func testAddMediaIdempotent(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	conn, ds := seedDataset(t, s)
	files := mediaFiles(conn.ID, ds.ID, "a.jpg", "b.png", "c.mp4")

	added, err := s.AddMedia(ctx, files)
	mustDo(t, err)
	if added != 3 {
		t.Fatalf("first AddMedia added %d, want 3", added)
	}

	more := append(mediaFiles(conn.ID, ds.ID, "d.gif"), files...)
	added, err = s.AddMedia(ctx, more)
	mustDo(t, err)
	if added != 1 {
		t.Fatalf("second AddMedia added %d, want only the new file", added)
	}
	n, err := s.CountMedia(ctx, ds.ID)
	mustDo(t, err)
	if n != 4 {
		t.Fatalf("CountMedia = %d, want 4", n)
	}
}

func testMediaKeysByteExact(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	conn, ds := seedDataset(t, s)
	keys := []string{"videos/my clip.mp4", "pkgs/libstdc++-1.0.tgz", "notes/a#1?.txt",
		"/2024//clip.mp4", "a/./b/../c", "users/~alice/a.jpg", "unicode/größe-写真.jpg",
		"pct/%41%2F.jpg", "Case/ABC.JPG", "case/abc.jpg"}
	files := mediaFiles(conn.ID, ds.ID, keys...)
	added, err := s.AddMedia(ctx, files)
	mustDo(t, err)
	if added != len(keys) {
		t.Fatalf("AddMedia added %d, want %d (keys differing only in case or form are distinct)",
			added, len(keys))
	}

	list, err := s.ListMedia(ctx, ds.ID, 0, 100)
	mustDo(t, err)
	for i, f := range list {
		if f.Key != keys[i] {
			t.Errorf("key %d = %q, want %q", i, f.Key, keys[i])
		}
	}
}

func testMediaBatch(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	conn, ds := seedDataset(t, s)
	keys := make([]string, 1200)
	for i := range keys {
		keys[i] = fmt.Sprintf("img/%04d.jpg", i)
	}
	_, err := s.AddMedia(ctx, mediaFiles(conn.ID, ds.ID, keys...))
	mustDo(t, err)

	list, err := s.ListMedia(ctx, ds.ID, 0, 2000)
	mustDo(t, err)
	ids := make([]int64, 0, len(list)+1)
	for _, f := range list {
		ids = append(ids, f.ID)
	}
	ids = append(ids, 99999999)

	refs, err := s.MediaBatch(ctx, ids)
	mustDo(t, err)
	if len(refs) != 1200 {
		t.Fatalf("MediaBatch returned %d files, want the 1200 that exist", len(refs))
	}
}

func testListMediaPages(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	conn, ds := seedDataset(t, s)
	_, err := s.AddMedia(ctx, mediaFiles(conn.ID, ds.ID, "1", "2", "3", "4", "5"))
	mustDo(t, err)

	var seen []string
	after := int64(0)
	for {
		page, err := s.ListMedia(ctx, ds.ID, after, 2)
		mustDo(t, err)
		if len(page) == 0 {
			break
		}
		for _, f := range page {
			seen = append(seen, f.Key)
			after = f.ID
		}
	}
	if fmt.Sprint(seen) != "[1 2 3 4 5]" {
		t.Fatalf("pages gave %v, want [1 2 3 4 5]", seen)
	}
}

func testMediaRevision(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	conn, ds := seedDataset(t, s)
	f := mediaFiles(conn.ID, ds.ID, "x.jpg")
	f[0].ThumbKey = "thumbs/x.jpg"
	_, err := s.AddMedia(ctx, f)
	mustDo(t, err)
	list, err := s.ListMedia(ctx, ds.ID, 0, 1)
	mustDo(t, err)

	ref, err := s.Media(ctx, list[0].ID)
	mustDo(t, err)
	if ref.ConnectionRevision != 1 || ref.ThumbKey != "thumbs/x.jpg" || ref.Size != 1234 {
		t.Fatalf("Media = %+v, want revision 1, thumb and size", ref)
	}

	mustDo(t, s.UpdateConnection(ctx, conn))
	ref, err = s.Media(ctx, list[0].ID)
	mustDo(t, err)
	if ref.ConnectionRevision != 2 {
		t.Fatalf("revision after connection update = %d, want 2", ref.ConnectionRevision)
	}
	_, err = s.Media(ctx, list[0].ID+1000)
	wantCode(t, err, mediasign.CodeNotFound)

	p, err := s.ProjectOfMedia(ctx, list[0].ID)
	mustDo(t, err)
	if p.Name != "proj" {
		t.Fatalf("ProjectOfMedia = %+v, want project proj", p)
	}
	_, err = s.ProjectOfMedia(ctx, list[0].ID+1000)
	wantCode(t, err, mediasign.CodeNotFound)
}

func testCachedURLs(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	u := &mediasign.CachedURL{Key: "k1", URL: "https://h/b/k?X-Amz-Signature=abc",
		ExpiresAt: now.Add(time.Hour), CreatedAt: now,
		Headers: map[string]string{"Content-Type": "image/png"}}
	mustDo(t, s.PutCachedURL(ctx, u))

	got, err := s.CachedURL(ctx, "k1")
	mustDo(t, err)
	if got.URL != u.URL || !got.ExpiresAt.Equal(u.ExpiresAt) || got.Headers["Content-Type"] != "image/png" {
		t.Fatalf("CachedURL = %+v, want %+v", got, u)
	}

	u2 := &mediasign.CachedURL{Key: "k1", URL: "https://h/new", ExpiresAt: now.Add(2 * time.Hour),
		CreatedAt: now}
	mustDo(t, s.PutCachedURL(ctx, u2))
	got, err = s.CachedURL(ctx, "k1")
	mustDo(t, err)
	if got.URL != "https://h/new" || len(got.Headers) != 0 {
		t.Fatalf("replaced entry = %+v", got)
	}

	old := &mediasign.CachedURL{Key: "old", URL: "https://h/old", ExpiresAt: now.Add(-time.Second),
		CreatedAt: now.Add(-time.Hour)}
	mustDo(t, s.PutCachedURL(ctx, old))
	n, err := s.DeleteExpiredURLs(ctx, now)
	mustDo(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpiredURLs removed %d, want 1", n)
	}
	_, err = s.CachedURL(ctx, "old")
	wantCode(t, err, mediasign.CodeNotFound)
	_, err = s.CachedURL(ctx, "k1")
	mustDo(t, err)
}

func testSettings(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	_, err := s.Setting(ctx, "admin_token_hash")
	wantCode(t, err, mediasign.CodeNotFound)

	stored, err := s.SetSettingIfAbsent(ctx, "admin_token_hash", "first")
	mustDo(t, err)
	if !stored {
		t.Fatal("SetSettingIfAbsent on a new name did not store")
	}
	stored, err = s.SetSettingIfAbsent(ctx, "admin_token_hash", "second")
	mustDo(t, err)
	if stored {
		t.Fatal("SetSettingIfAbsent replaced an existing value")
	}
	v, err := s.Setting(ctx, "admin_token_hash")
	mustDo(t, err)
	if v != "first" {
		t.Fatalf("Setting = %q, want first", v)
	}

	mustDo(t, s.SetSetting(ctx, "admin_token_hash", "third"))
	v, err = s.Setting(ctx, "admin_token_hash")
	mustDo(t, err)
	if v != "third" {
		t.Fatalf("Setting after SetSetting = %q, want third", v)
	}
}

func seedDataset(t *testing.T, s mediasign.Store) (*mediasign.Connection, *mediasign.Dataset) {
	t.Helper()
	ctx := context.Background()
	c := &mediasign.Connection{Name: "conn", Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: "/srv"}}
	mustDo(t, s.CreateConnection(ctx, c))
	p := &mediasign.Project{Name: "proj"}
	mustDo(t, s.CreateProject(ctx, p))
	d := &mediasign.Dataset{ProjectID: p.ID, Name: "ds"}
	mustDo(t, s.CreateDataset(ctx, d))
	return c, d
}

func mediaFiles(connID, datasetID int64, keys ...string) []mediasign.MediaFile {
	out := make([]mediasign.MediaFile, len(keys))
	for i, k := range keys {
		out[i] = mediasign.MediaFile{DatasetID: datasetID, ConnectionID: connID,
			Bucket: "", Key: k, MediaType: "image/jpeg", Size: 1234}
	}
	return out
}

func names(cs []*mediasign.Connection) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code mediasign.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := mediasign.ErrorCode(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
	var e *mediasign.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is not a *mediasign.Error", err)
	}
}
