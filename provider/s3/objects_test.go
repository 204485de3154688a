package s3

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/testenv/s3server"
)

// TestRealServerPutAndDeleteFile uploads a file to the real server, fetches
// it through a presigned URL, deletes it and finds it gone.
func TestRealServerPutAndDeleteFile(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, caseBucket)
	s := newServerStorage(t, srv, &fakeClock{now: time.Now()}, nil)
	ctx := context.Background()

	body := bytes.Repeat([]byte("export line\n"), 5000)
	f := writeTemp(t, body)
	if _, err := f.Seek(100, 0); err != nil {
		t.Fatal(err)
	}
	key := "exports/7-abc.jsonl"
	if err := s.PutFile(ctx, caseBucket, key, f, int64(len(body))); err != nil {
		t.Fatalf("PutFile: %v", err)
	}

	out := mustSign(t, s, mediasign.SignRequest{Key: key, Expires: time.Minute})
	status, got := send(t, "GET", out.URL, nil, nil)
	if status != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET uploaded object: %d, %d bytes, want 200 and the %d bytes of the file",
			status, len(got), len(body))
	}

	if err := s.DeleteObject(ctx, caseBucket, key); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if status, _ := send(t, "GET", out.URL, nil, nil); status != http.StatusNotFound {
		t.Fatalf("GET deleted object: %d, want 404", status)
	}
	if err := s.DeleteObject(ctx, caseBucket, key); err != nil {
		t.Fatalf("DeleteObject of a gone object: %v, want nil", err)
	}
	err := s.PutFile(ctx, "no-such-bucket", key, f, int64(len(body)))
	if mediasign.ErrorCode(err) != mediasign.CodeNotFound {
		t.Fatalf("PutFile to a missing bucket: %v, want not found", err)
	}
}

// TestPutFileRefusesOver5GiB checks that a file too large for one PutObject
// is refused before anything is sent.
func TestPutFileRefusesOver5GiB(t *testing.T) {
	s := newServerStorage(t, &s3server.Server{AccessKey: "AKIDEXAMPLE", Secret: "secret",
		Region: "us-east-1", Endpoint: "http://127.0.0.1:1"}, &fakeClock{now: time.Now()}, nil)
	f := writeTemp(t, nil)
	if err := f.Truncate(MaxPutSize + 1); err != nil {
		t.Skipf("skipping: cannot make a sparse file of 5 GiB here: %v", err)
	}

	err := s.PutFile(context.Background(), caseBucket, "big", f, MaxPutSize+1)
	if mediasign.ErrorCode(err) != mediasign.CodeInvalid || !strings.Contains(err.Error(), "5 GiB") {
		t.Fatalf("PutFile of 5 GiB + 1: %v, want a clear refusal", err)
	}
}

func writeTemp(t *testing.T, body []byte) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "file"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(body); err != nil {
		t.Fatal(err)
	}
	return f
}
