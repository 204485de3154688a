package export_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/internal/testenv/s3server"
	s3provider "github.com/mediasign/mediasign/provider/s3"
)

const exportBucket = "exports"

// remoteOn returns a Remote that keeps files in the export bucket of srv.
func remoteOn(t *testing.T, srv *s3server.Server) *export.Remote {
	t.Helper()
	conn := &mediasign.Connection{Name: "export-store", Provider: mediasign.ProviderS3,
		S3: &mediasign.S3Config{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.Secret,
			Region: srv.Region, Endpoint: srv.Endpoint, PathStyle: true}}
	return &export.Remote{Bucket: exportBucket, Prefix: "team/exports/",
		Open: func(context.Context) (export.ObjectStore, error) {
			return s3provider.New(conn, s3provider.Options{})
		}}
}

// trainRequest asks for an export of the dataset train.
func trainRequest(env *env) export.StartRequest {
	return export.StartRequest{Project: env.project, Datasets: []string{"train"}}
}

// getObject returns the bytes of an object of the export bucket, or nil
// and false when it does not exist.
func getObject(t *testing.T, srv *s3server.Server, key string) ([]byte, bool) {
	t.Helper()
	out, err := srv.Client().GetObject(context.Background(), &awss3.GetObjectInput{
		Bucket: aws.String(exportBucket), Key: aws.String(key)})
	var apiErr interface{ ErrorCode() string }
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchKey" {
		return nil, false
	}
	must(t, err)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	must(t, err)
	return b, true
}

// TestManagerKeepsFilesInBucket runs an export whose file goes to a bucket:
// the object holds the file and the local copy is gone; a second manager
// on the same store, standing for another replica with no file of its own,
// hands out a signed URL that fetches the same bytes; deleting the export
// removes the object.
func TestManagerKeepsFilesInBucket(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, exportBucket)
	env := newEnv(t, envOptions{s3: srv})
	seeded(t, env, "train", 120, 5)
	writer, dir := newManager(t, env, export.ManagerOptions{Remote: remoteOn(t, srv),
		Shared: true})
	ctx := asAdmin()

	e, err := writer.Start(ctx, trainRequest(env))
	must(t, err)
	done := waitEnd(t, writer, env.project.ID, e.ID)
	if done.State != mediasign.ExportDone || !strings.HasPrefix(done.ObjectKey, "team/exports/") ||
		!strings.HasSuffix(done.ObjectKey, ".jsonl") {
		t.Fatalf("finished export = %s %q, key %q; want done, keyed under the prefix",
			done.State, done.Error, done.ObjectKey)
	}
	stored, ok := getObject(t, srv, done.ObjectKey)
	if !ok || int64(len(stored)) != done.Size {
		t.Fatalf("object %q: found %v, %d bytes; want the %d bytes of the file",
			done.ObjectKey, ok, len(stored), done.Size)
	}
	assertEmptyDir(t, dir)
	path := filepath.Join(t.TempDir(), "stored.jsonl")
	must(t, os.WriteFile(path, stored, 0o600))
	checkGuarantee(t, readExport(t, path, mediasign.ExportJSONLines),
		env.svc.Policy().MinValid, 120)

	other, _ := newManager(t, env, export.ManagerOptions{Remote: remoteOn(t, srv),
		Shared: true})
	d, err := other.Open(ctx, env.project.ID, e.ID, fileName)
	must(t, err)
	if d.File != nil || d.URL == "" {
		t.Fatalf("Open on another replica = %+v, want a signed URL", d)
	}
	checkSignedURL(t, d.URL, stored, fileName(done))

	must(t, other.Delete(ctx, env.project.ID, e.ID))
	if _, ok := getObject(t, srv, done.ObjectKey); ok {
		t.Fatalf("object %q is still there after the export was deleted", done.ObjectKey)
	}
	_, err = writer.Get(ctx, env.project.ID, e.ID)
	wantCode(t, err, mediasign.CodeNotFound)
}

// checkSignedURL fetches u and compares the body, and checks that the URL
// is short-lived and names the file to save.
func checkSignedURL(t *testing.T, u string, want []byte, name string) {
	t.Helper()
	parsed, err := url.Parse(u)
	must(t, err)
	q := parsed.Query()
	disposition := q.Get("response-content-disposition")
	if q.Get("X-Amz-Expires") != "600" || !strings.Contains(disposition, name) {
		t.Fatalf("signed URL expires in %q s, disposition %q; want 600 s and file %q",
			q.Get("X-Amz-Expires"), disposition, name)
	}

	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u)
	must(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	must(t, err)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("GET signed URL: %d, %d bytes; want 200 and the %d bytes of the object",
			resp.StatusCode, len(got), len(want))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, name) {
		t.Errorf("Content-Disposition %q does not name %q", cd, name)
	}
}

// TestManagerDeleteKeepsExportWhenObjectStays makes the bucket refuse the
// delete: the export is kept, pointing at its object, and the error says
// so; once the bucket answers again, the delete goes through.
func TestManagerDeleteKeepsExportWhenObjectStays(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, exportBucket)
	env := newEnv(t, envOptions{s3: srv})
	seeded(t, env, "train", 10, 0)
	remote := remoteOn(t, srv)
	m, _ := newManager(t, env, export.ManagerOptions{Remote: remote})
	ctx := asAdmin()
	e, err := m.Start(ctx, trainRequest(env))
	must(t, err)
	done := waitEnd(t, m, env.project.ID, e.ID)

	good := remote.Open
	remote.Open = func(context.Context) (export.ObjectStore, error) {
		return nil, errors.New("storage is down")
	}
	err = m.Delete(ctx, env.project.ID, e.ID)
	wantCode(t, err, mediasign.CodeUnavailable)
	if !strings.Contains(mediasign.PublicMessage(err), "kept") {
		t.Errorf("message %q does not say the export is kept", mediasign.PublicMessage(err))
	}
	kept, err := m.Get(ctx, env.project.ID, e.ID)
	must(t, err)
	if _, ok := getObject(t, srv, done.ObjectKey); !ok || kept.ObjectKey != done.ObjectKey {
		t.Fatalf("after a failed delete: export key %q, object found %v; want both kept",
			kept.ObjectKey, ok)
	}

	remote.Open = good
	must(t, m.Delete(ctx, env.project.ID, e.ID))
	if _, ok := getObject(t, srv, done.ObjectKey); ok {
		t.Fatalf("object %q is still there after the export was deleted", done.ObjectKey)
	}
}

// TestManagerFailsExportWhenUploadFails checks that an export whose file
// cannot reach its bucket ends failed and leaves no local file behind.
func TestManagerFailsExportWhenUploadFails(t *testing.T) {
	srv := s3server.Start(t)
	env := newEnv(t, envOptions{s3: srv})
	seeded(t, env, "train", 10, 0)
	m, dir := newManager(t, env, export.ManagerOptions{Remote: remoteOn(t, srv)})
	ctx := asAdmin()

	e, err := m.Start(ctx, trainRequest(env))
	must(t, err)
	end := waitEnd(t, m, env.project.ID, e.ID)
	if end.State != mediasign.ExportFailed || end.ObjectKey != "" || end.Error == "" {
		t.Fatalf("export with no bucket = %s %q key %q, want failed with a reason",
			end.State, end.Error, end.ObjectKey)
	}
	assertEmptyDir(t, dir)
}

// TestSharedManagerWithoutBucketNamesSetting checks the answer of a replica
// that does not hold the file of a done export, when no bucket keeps them.
func TestSharedManagerWithoutBucketNamesSetting(t *testing.T) {
	env := newEnv(t, envOptions{})
	seeded(t, env, "train", 10, 0)
	writer, _ := newManager(t, env, export.ManagerOptions{Shared: true})
	other, _ := newManager(t, env, export.ManagerOptions{Shared: true})
	ctx := asAdmin()
	e, err := writer.Start(ctx, trainRequest(env))
	must(t, err)
	waitEnd(t, writer, env.project.ID, e.ID)

	d, err := writer.Open(ctx, env.project.ID, e.ID, fileName)
	must(t, err)
	d.File.Close()
	_, err = other.Open(ctx, env.project.ID, e.ID, fileName)
	wantCode(t, err, mediasign.CodeNotFound)
	if msg := mediasign.PublicMessage(err); !strings.Contains(msg, "MEDIASIGN_EXPORT_CONNECTION") {
		t.Fatalf("message %q does not name the setting to configure", msg)
	}
}
