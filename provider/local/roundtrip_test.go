package local_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign/provider/local"
)

// awkwardKeys are keys whose bytes need care in a URL path or on disk. The
// two café keys differ only in Unicode normalization (NFC and NFD) and name
// two different files.
var awkwardKeys = []string{
	"plain.jpg",
	"A.txt",
	"%41.txt",
	"with space/and  two spaces.png",
	"caf\u00e9 nfc.jpg",
	"cafe\u0301 nfc.jpg",
	"a+b.txt",
	"100%.txt",
	"%2F not a slash.txt",
	"#hash.png",
	"what?.gif",
	"semi;colon.webp",
	"a&b=c.json",
	"deep/nested/dir/tree/file.mp4",
	"a..b.png",
	"trailing.dot.",
	"~tilde.txt",
	"日本語/ファイル.png",
	"emoji 🎉.png",
	"quote'\"<>.txt",
	"tab\there.txt",
	"newline\n.txt",
	"invalid utf8 \xff\xfe.bin",
	"colon:name.txt",
	"star*pipe|.txt",
	"`backtick`[brackets]{braces}^caret.png",
	"comma,at@dollar$exclaim!paren().png",
	"UPPER.JPG",
	"no-extension",
	"dir.v2/file",
}

func TestSignServeRoundTrip(t *testing.T) {
	fx := newFixture(t)
	for _, key := range awkwardKeys {
		fx.file(t, key, "content of "+key)
	}

	for _, key := range awkwardKeys {
		t.Run(strconv.Quote(key), func(t *testing.T) {
			signed := fx.sign(t, key, time.Hour)
			resp, body := fx.get(t, signed.URL)

			wantStatus(t, resp, body, http.StatusOK)
			if body != "content of "+key {
				t.Fatalf("body %q, want the file of %q", body, key)
			}
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %q, want %d", got, len(body))
			}

			head := fx.do(t, http.MethodHead, signed.URL, nil)
			if head.StatusCode != http.StatusOK || readBody(t, head) != "" {
				t.Errorf("HEAD: status %d, want 200 without body", head.StatusCode)
			}
			if got := head.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
				t.Errorf("HEAD Content-Length %q, want %d", got, len(body))
			}
		})
	}
}

// TestRoundTripOverHTTP serves the handler the way mediasign mounts it, on a
// loopback server, and fetches every awkward key with a real client.
func TestRoundTripOverHTTP(t *testing.T) {
	fx := newFixture(t)
	for _, key := range awkwardKeys {
		fx.file(t, key, "content of "+key)
	}

	mux := http.NewServeMux()
	mux.Handle(local.FilesPath, fx.handler)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	storage := fx.newStorage(t, fx.conn, srv.URL+"/")

	for _, key := range awkwardKeys {
		t.Run(strconv.Quote(key), func(t *testing.T) {
			signed := signWith(t, storage, key, time.Hour)
			if !strings.HasPrefix(signed.URL, srv.URL+local.FilesPath) {
				t.Fatalf("URL %q does not start with %q", signed.URL, srv.URL+local.FilesPath)
			}

			resp, err := srv.Client().Get(signed.URL)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantStatus(t, resp, string(body), http.StatusOK)
			if string(body) != "content of "+key {
				t.Fatalf("body %q, want the file of %q", body, key)
			}
		})
	}
}

func TestURLShape(t *testing.T) {
	fx := newFixture(t)
	signed := fx.sign(t, "dir/a b+c.png", 90*time.Minute)

	wantPrefix := testBaseURL + "/files/7/dir/a%20b%2Bc.png?" + local.ParamExpires + "="
	if !strings.HasPrefix(signed.URL, wantPrefix) {
		t.Fatalf("URL %q, want prefix %q", signed.URL, wantPrefix)
	}

	wantExpiry := startTime.Truncate(time.Second).Add(90 * time.Minute)
	if !signed.ExpiresAt.Equal(wantExpiry) {
		t.Errorf("ExpiresAt %v, want %v", signed.ExpiresAt, wantExpiry)
	}
	if got := query(t, signed.URL, local.ParamExpires); got != strconv.FormatInt(wantExpiry.Unix(), 10) {
		t.Errorf("%s = %q, want %d", local.ParamExpires, got, wantExpiry.Unix())
	}
	if got := query(t, signed.URL, local.ParamKeyID); got != fx.keyring.Active().ID {
		t.Errorf("%s = %q, want the active key %q", local.ParamKeyID, got, fx.keyring.Active().ID)
	}
	if got := query(t, signed.URL, local.ParamSignature); len(got) != 43 {
		t.Errorf("%s = %q, want 43 characters of unpadded base64url", local.ParamSignature, got)
	}
}

func TestContentHeaders(t *testing.T) {
	tests := []struct {
		key, wantType string
	}{
		{"photo.jpg", "image/jpeg"},
		{"Photo.JPEG", "image/jpeg"},
		{"scan.png", "image/png"},
		{"clip.mp4", "video/mp4"},
		{"drawing.svg", "image/svg+xml"},
		{"notes.txt", "text/plain; charset=utf-8"},
		{"page.html", "text/html; charset=utf-8"},
		{"blob.zzzunknown", "application/octet-stream"},
		{"no-extension", "application/octet-stream"},
	}

	fx := newFixture(t)
	for _, tt := range tests {
		// Content that sniffing would take for HTML, whatever the extension.
		fx.file(t, tt.key, "<html><script>alert(1)</script></html>")
	}

	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			resp, body := fx.get(t, fx.sign(t, tt.key, time.Hour).URL)
			wantStatus(t, resp, body, http.StatusOK)

			h := resp.Header
			if got := h.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if got := h.Get("Content-Security-Policy"); !strings.Contains(got, "sandbox") ||
				!strings.Contains(got, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q, want a sandbox with default-src 'none'", got)
			}
			if got := h.Get("Accept-Ranges"); got != "bytes" {
				t.Errorf("Accept-Ranges %q, want bytes", got)
			}
		})
	}
}
