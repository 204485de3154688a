package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

const exportsBucket = "exports"

// TestReplicasShareExportFiles runs replicas on one PostgreSQL schema with
// an export connection: an export written by one replica is kept in the
// bucket, another replica redirects its download to a signed URL of the
// object, and deleting it there removes the object.
func TestReplicasShareExportFiles(t *testing.T) {
	c := newCluster(t)
	c.s3.CreateBucket(t, exportsBucket)
	first := c.start()
	c.seed(first, 30)
	if !strings.Contains(first.stderr.String(), "MEDIASIGN_EXPORT_CONNECTION") {
		t.Errorf("a replica on PostgreSQL with no export connection logs no warning naming it")
	}

	withBucket := []string{"MEDIASIGN_EXPORT_CONNECTION=s3",
		"MEDIASIGN_EXPORT_BUCKET=" + exportsBucket}
	writer, reader := c.start(withBucket...), c.start(withBucket...)
	id := c.runExport(writer)
	keys := c.exportObjects()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "mediasign-exports/") {
		t.Fatalf("objects in the export bucket = %q, want one under mediasign-exports/", keys)
	}
	stored := c.objectBytes(keys[0])

	resp := c.noRedirect(reader, "GET", pathf("/api/v1/projects/scale/exports/%d/file", id))
	resp.Body.Close()
	location := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(location, "X-Amz-Expires=600") {
		t.Fatalf("download on another replica = %d, Cache-Control %q, Location %q; want 302 "+
			"no-store to a URL valid for 600 s", resp.StatusCode, resp.Header.Get("Cache-Control"),
			location)
	}
	code, body := fetch(t, location)
	if code != 200 || !bytes.Equal(body, stored) || !bytes.Contains(body, []byte("img/0007.png")) {
		t.Fatalf("GET redirect target = %d, %d bytes; want 200 and the %d bytes of the object",
			code, len(body), len(stored))
	}

	resp = c.noRedirect(reader, "DELETE", pathf("/api/v1/projects/scale/exports/%d", id))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete on another replica = %d, want 204", resp.StatusCode)
	}
	if keys := c.exportObjects(); len(keys) != 0 {
		t.Fatalf("objects left after the export was deleted: %q", keys)
	}
}

// TestReplicaWithoutExportFileNamesSetting checks the answer of a replica
// asked for the file of an export that another replica keeps locally.
func TestReplicaWithoutExportFileNamesSetting(t *testing.T) {
	c := newCluster(t)
	writer := c.start()
	c.seed(writer, 5)
	other := c.start()
	id := c.runExport(writer)

	resp := c.noRedirect(other, "GET", pathf("/api/v1/projects/scale/exports/%d/file", id))
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound ||
		!bytes.Contains(raw, []byte("MEDIASIGN_EXPORT_CONNECTION")) {
		t.Fatalf("download on a replica without the file = %d %s, want 404 naming "+
			"MEDIASIGN_EXPORT_CONNECTION", resp.StatusCode, raw)
	}
	resp = c.noRedirect(writer, "GET", pathf("/api/v1/projects/scale/exports/%d/file", id))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download on the replica that wrote it = %d, want 200", resp.StatusCode)
	}
}

// runExport starts an export of the seeded dataset on p and waits for it
// to be done.
func (c *cluster) runExport(p *process) int64 {
	c.t.Helper()
	var e struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
		Error string `json:"error"`
	}
	if code := c.call(p, "POST", "/api/v1/projects/scale/exports",
		map[string]any{"datasets": []string{"images"}}, &e); code != http.StatusAccepted {
		c.t.Fatalf("start export: status %d", code)
	}
	deadline := time.Now().Add(time.Minute)
	for e.State == "running" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		c.call(p, "GET", pathf("/api/v1/projects/scale/exports/%d", e.ID), nil, &e)
	}
	if e.State != "done" {
		c.t.Fatalf("export %d = %s %q, want done", e.ID, e.State, e.Error)
	}
	return e.ID
}

// noRedirect sends an admin request to p and returns the answer as is.
func (c *cluster) noRedirect(p *process, method, path string) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, p.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// exportObjects lists the keys of the export bucket.
func (c *cluster) exportObjects() []string {
	c.t.Helper()
	out, err := c.s3.Client().ListObjectsV2(context.Background(),
		&awss3.ListObjectsV2Input{Bucket: aws.String(exportsBucket)})
	if err != nil {
		c.t.Fatalf("list export bucket: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (c *cluster) objectBytes(key string) []byte {
	c.t.Helper()
	out, err := c.s3.Client().GetObject(context.Background(),
		&awss3.GetObjectInput{Bucket: aws.String(exportsBucket), Key: aws.String(key)})
	if err != nil {
		c.t.Fatalf("get %q: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}
