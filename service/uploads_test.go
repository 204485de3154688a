package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/service"
)

// TestUploadKeysStayInTheDatasetsFolders checks where upload URLs may
// point: under a folder of the dataset's own media, never onto another
// dataset's file, never through odd path segments, for installation admins
// too.
func TestUploadKeysStayInTheDatasetsFolders(t *testing.T) {
	e := newBatchEnv(t)
	ctx := context.Background()
	e.refs(t, "proj/a/1.jpg")
	other, err := e.svc.AddDataset(ctx, e.dataset.ProjectID, "other")
	must(t, err)
	_, err = e.store.AddMedia(ctx, []mediasign.MediaFile{
		{DatasetID: other.ID, ConnectionID: e.conn.ID, Bucket: "b", Key: "proj/a/2.jpg"},
		{DatasetID: other.ID, ConnectionID: e.conn.ID, Bucket: "b", Key: "theirs/x.jpg"},
	})
	must(t, err)
	admin := mediasign.WithCaller(ctx, mediasign.Caller{InstallAdmin: true,
		Method: mediasign.AuthAdminToken})

	for _, tc := range []struct {
		ctx    context.Context
		req    service.UploadRequest
		want   mediasign.Code // "" for a URL
		saying string
	}{
		{ctx, service.UploadRequest{Key: "proj/a/new.jpg"}, "", ""},
		{ctx, service.UploadRequest{Key: "proj/a/deeper/new.jpg"}, "", ""},
		{ctx, service.UploadRequest{Key: "proj/a/1.jpg"}, "", ""},
		{ctx, service.UploadRequest{Key: "proj/a/2.jpg"}, mediasign.CodeForbidden,
			"another dataset"},
		{ctx, service.UploadRequest{Key: "theirs/y.jpg"}, mediasign.CodeForbidden, `"proj/a/"`},
		{ctx, service.UploadRequest{Key: "proj/b.jpg"}, mediasign.CodeForbidden, "folder"},
		{ctx, service.UploadRequest{Key: "proj/a/../../theirs/x.jpg"}, mediasign.CodeInvalid,
			"segment"},
		{ctx, service.UploadRequest{Key: "proj/a/./new.jpg"}, mediasign.CodeInvalid, "segment"},
		{ctx, service.UploadRequest{Key: "proj/a//new.jpg"}, mediasign.CodeInvalid, "segment"},
		{ctx, service.UploadRequest{Key: "/proj/a/new.jpg"}, mediasign.CodeInvalid, "segment"},
		{ctx, service.UploadRequest{Key: "proj/a/"}, mediasign.CodeInvalid, "segment"},
		{ctx, service.UploadRequest{Key: "proj/a/\x7f.jpg"}, mediasign.CodeInvalid, "control"},
		{ctx, service.UploadRequest{Key: "proj/a/new.jpg", Bucket: "elsewhere"},
			mediasign.CodeForbidden, "bucket"},
		{admin, service.UploadRequest{Key: "theirs/y.jpg", Connection: "fake", Bucket: "b"},
			mediasign.CodeForbidden, "folder"},
		{admin, service.UploadRequest{Key: "anything.jpg", Connection: "fake", Bucket: "elsewhere"},
			mediasign.CodeForbidden, "bucket"},
		{admin, service.UploadRequest{Key: "theirs/x.jpg", Connection: "fake", Bucket: "b"},
			mediasign.CodeForbidden, "folder"},
	} {
		tc.req.DatasetID = e.dataset.ID
		u, err := e.svc.UploadURL(tc.ctx, tc.req)
		if tc.want == "" {
			if err != nil || !strings.HasSuffix(u.URL, "/b/"+tc.req.Key) {
				t.Errorf("key %q: %+v, %v; want a URL", tc.req.Key, u, err)
			}
			continue
		}
		var me *mediasign.Error
		if mediasign.ErrorCode(err) != tc.want || !asError(err, &me) ||
			!strings.Contains(me.Message, tc.saying) {
			t.Errorf("key %q: error %v, want %s saying %s", tc.req.Key, err, tc.want, tc.saying)
		}
	}
}

// TestUploadRefusesOtherDatasetsFileUnderOwnFolder checks the other-dataset
// rule on its own: the folder is the dataset's, the file is not.
func TestUploadRefusesOtherDatasetsFileUnderOwnFolder(t *testing.T) {
	e := newBatchEnv(t)
	ctx := context.Background()
	e.refs(t, "root.jpg") // the bucket's root is the dataset's folder
	other, err := e.svc.AddDataset(ctx, e.dataset.ProjectID, "other")
	must(t, err)
	_, err = e.store.AddMedia(ctx, []mediasign.MediaFile{
		{DatasetID: other.ID, ConnectionID: e.conn.ID, Bucket: "b", Key: "x/theirs.jpg"}})
	must(t, err)

	if _, err := e.svc.UploadURL(ctx, service.UploadRequest{DatasetID: e.dataset.ID,
		Key: "x/mine.jpg"}); err != nil {
		t.Fatalf("a new key under the root: %v", err)
	}
	_, err = e.svc.UploadURL(ctx, service.UploadRequest{DatasetID: e.dataset.ID,
		Key: "x/theirs.jpg"})
	if mediasign.ErrorCode(err) != mediasign.CodeForbidden {
		t.Fatalf("another dataset's file: %v, want forbidden", err)
	}
}

func asError(err error, target **mediasign.Error) bool { return errors.As(err, target) }
