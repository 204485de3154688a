package local_test

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const rangeSize = 1000

func rangeFixture(t *testing.T) (*fixture, string, string, time.Time) {
	t.Helper()

	fx := newFixture(t)
	content := make([]byte, rangeSize)
	for i := range content {
		content[i] = byte('a' + i%26)
	}
	fx.file(t, "clip.mp4", string(content))

	mtime := time.Date(2023, 6, 1, 8, 30, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(fx.root, "clip.mp4"), mtime, mtime); err != nil {
		t.Fatalf("chtimes: %v", err)
	}
	return fx, fx.sign(t, "clip.mp4", time.Hour).URL, string(content), mtime
}

func TestRange(t *testing.T) {
	tests := []struct {
		rng          string
		wantStatus   int
		wantRange    string
		wantFrom     int
		wantTo       int
		wantNoCached bool
	}{
		{"bytes=0-9", http.StatusPartialContent, "bytes 0-9/1000", 0, 10, false},
		{"bytes=10-10", http.StatusPartialContent, "bytes 10-10/1000", 10, 11, false},
		{"bytes=990-", http.StatusPartialContent, "bytes 990-999/1000", 990, 1000, false},
		{"bytes=-5", http.StatusPartialContent, "bytes 995-999/1000", 995, 1000, false},
		{"bytes=500-5000", http.StatusPartialContent, "bytes 500-999/1000", 500, 1000, false},
		{"bytes=2000-", http.StatusRequestedRangeNotSatisfiable, "bytes */1000", 0, 0, true},
	}

	fx, signed, content, _ := rangeFixture(t)
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			resp := fx.do(t, http.MethodGet, signed, http.Header{"Range": {tt.rng}})
			body := readBody(t, resp)
			wantStatus(t, resp, body, tt.wantStatus)
			if got := resp.Header.Get("Content-Range"); got != tt.wantRange {
				t.Errorf("Content-Range %q, want %q", got, tt.wantRange)
			}
			if tt.wantStatus != http.StatusPartialContent {
				return
			}
			if body != content[tt.wantFrom:tt.wantTo] {
				t.Errorf("body %q, want bytes %d to %d", body, tt.wantFrom, tt.wantTo)
			}
			if got := resp.Header.Get("Content-Type"); got != "video/mp4" {
				t.Errorf("Content-Type %q, want video/mp4", got)
			}
			if got := resp.Header.Get("Cache-Control"); !strings.HasPrefix(got, "private, max-age=") {
				t.Errorf("Cache-Control %q, want private with a max-age", got)
			}
		})
	}
}

func TestMultiRange(t *testing.T) {
	fx, signed, content, _ := rangeFixture(t)
	resp := fx.do(t, http.MethodGet, signed, http.Header{"Range": {"bytes=0-1,10-11,998-"}})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("status %d, want 206", resp.StatusCode)
	}

	mediaType, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/byteranges" {
		t.Fatalf("Content-Type %q, want multipart/byteranges", resp.Header.Get("Content-Type"))
	}

	want := []struct {
		rng  string
		body string
	}{
		{"bytes 0-1/1000", content[0:2]},
		{"bytes 10-11/1000", content[10:12]},
		{"bytes 998-999/1000", content[998:]},
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for i, w := range want {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		body, _ := io.ReadAll(part)
		if got := part.Header.Get("Content-Range"); got != w.rng {
			t.Errorf("part %d Content-Range %q, want %q", i, got, w.rng)
		}
		if got := part.Header.Get("Content-Type"); got != "video/mp4" {
			t.Errorf("part %d Content-Type %q, want video/mp4", i, got)
		}
		if string(body) != w.body {
			t.Errorf("part %d body %q, want %q", i, body, w.body)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("after the last part: %v, want EOF", err)
	}
}

func TestConditionalRequests(t *testing.T) {
	fx, signed, content, mtime := rangeFixture(t)
	tests := []struct {
		name       string
		header     http.Header
		wantStatus int
		wantBody   string
	}{
		{"if-modified-since equal", http.Header{"If-Modified-Since": {mtime.Format(http.TimeFormat)}},
			http.StatusNotModified, ""},
		{"if-modified-since later", http.Header{
			"If-Modified-Since": {mtime.Add(time.Hour).Format(http.TimeFormat)}},
			http.StatusNotModified, ""},
		{"if-modified-since earlier", http.Header{
			"If-Modified-Since": {mtime.Add(-time.Hour).Format(http.TimeFormat)}},
			http.StatusOK, content},
		{"if-range stale", http.Header{"Range": {"bytes=0-9"},
			"If-Range": {mtime.Add(-time.Hour).Format(http.TimeFormat)}},
			http.StatusOK, content},
		{"if-range current", http.Header{"Range": {"bytes=0-9"},
			"If-Range": {mtime.Format(http.TimeFormat)}},
			http.StatusPartialContent, content[:10]},
		{"if-unmodified-since earlier", http.Header{
			"If-Unmodified-Since": {mtime.Add(-time.Hour).Format(http.TimeFormat)}},
			http.StatusPreconditionFailed, ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := fx.do(t, http.MethodGet, signed, tt.header)
			body := readBody(t, resp)
			wantStatus(t, resp, body, tt.wantStatus)
			if body != tt.wantBody {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
			if got := resp.Header.Get("Last-Modified"); tt.wantStatus != http.StatusPreconditionFailed &&
				got != mtime.Format(http.TimeFormat) {
				t.Errorf("Last-Modified %q, want %q", got, mtime.Format(http.TimeFormat))
			}
		})
	}
}
