package local_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/provider/local"
)

// errorBody is the JSON form of a refusal.
type errorBody struct {
	Error struct {
		Code    mediasign.Code `json:"code"`
		Message string         `json:"message"`
	} `json:"error"`
}

func decodeError(t *testing.T, body string) errorBody {
	t.Helper()

	var e errorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	return e
}

const tamperKey = "dir/a+b photo.jpg"

// tamperFixture holds files near tamperKey, so that a tampered URL that
// names another existing file is refused for its signature, not its path.
func tamperFixture(t *testing.T) (*fixture, string) {
	t.Helper()

	fx := newFixture(t)
	for _, key := range []string{tamperKey, "dir/a+b photo.png", "dir/a b photo.jpg",
		"dir/ab photo.jpg", "a+b photo.jpg", "Dir/a+b photo.jpg", "dir/other.jpg"} {
		fx.file(t, key, "content of "+key)
	}
	return fx, fx.sign(t, tamperKey, time.Hour).URL
}

func TestTamperedURLsRefused(t *testing.T) {
	fx, signed := tamperFixture(t)
	resp, body := fx.get(t, signed)
	wantStatus(t, resp, body, http.StatusOK)

	exp := query(t, signed, local.ParamExpires)
	kid := query(t, signed, local.ParamKeyID)
	sig := query(t, signed, local.ParamSignature)
	expN, _ := strconv.ParseInt(exp, 10, 64)
	r := strings.Replace

	tests := []struct {
		name   string
		mutate func(string) string
	}{
		{"other file", func(u string) string { return r(u, "a%2Bb%20photo.jpg", "other.jpg", 1) }},
		{"other extension", func(u string) string { return r(u, ".jpg?", ".png?", 1) }},
		{"directory dropped", func(u string) string { return r(u, "/7/dir/", "/7/", 1) }},
		{"directory case", func(u string) string { return r(u, "/7/dir/", "/7/Dir/", 1) }},
		{"plus for encoded plus", func(u string) string { return r(u, "%2B", "+", 1) }},
		{"plus for encoded space", func(u string) string { return r(u, "%20", "+", 1) }},
		{"space encoding dropped", func(u string) string { return r(u, "%20", "", 1) }},
		{"lowercase hex", func(u string) string { return r(u, "%2B", "%2b", 1) }},
		{"encoded letter", func(u string) string { return r(u, "photo", "%70hoto", 1) }},
		{"encoded slash", func(u string) string { return r(u, "dir/", "dir%2F", 1) }},
		{"double slash", func(u string) string { return r(u, "dir/", "dir//", 1) }},
		{"dot segment", func(u string) string { return r(u, "dir/", "dir/./", 1) }},
		{"dot-dot segment", func(u string) string { return r(u, "/7/dir/", "/7/x/../dir/", 1) }},
		{"connection zero-padded", func(u string) string { return r(u, "/7/", "/07/", 1) }},
		{"unknown connection", func(u string) string { return r(u, "/7/", "/70/", 1) }},
		{"s3 connection", func(u string) string { return r(u, "/7/", "/8/", 1) }},
		{"expiry later", func(u string) string {
			return r(u, "="+exp, "="+strconv.FormatInt(expN+1, 10), 1)
		}},
		{"expiry earlier", func(u string) string {
			return r(u, "="+exp, "="+strconv.FormatInt(expN-1, 10), 1)
		}},
		{"expiry zero-padded", func(u string) string { return r(u, "="+exp, "=0"+exp, 1) }},
		{"expiry with sign", func(u string) string { return r(u, "="+exp, "=%2B"+exp, 1) }},
		{"expiry encoded", func(u string) string { return r(u, "="+exp, "=%3"+exp, 1) }},
		{"key id unknown", func(u string) string { return r(u, "="+kid, "=AAAAAAAA", 1) }},
		{"key id case", func(u string) string {
			return r(u, "="+kid, "="+strings.ToLower(kid)+"x", 1)
		}},
		{"key id encoded", func(u string) string {
			return r(u, "="+kid, "=%"+strconv.FormatInt(int64(kid[0]), 16)+kid[1:], 1)
		}},
		{"signature first char", func(u string) string { return r(u, "="+sig, "="+flip(sig, 0), 1) }},
		{"signature middle char", func(u string) string { return r(u, "="+sig, "="+flip(sig, 21), 1) }},
		{"signature last char", func(u string) string { return r(u, "="+sig, "="+flip(sig, 42), 1) }},
		{"signature truncated", func(u string) string { return r(u, "="+sig, "="+sig[:42], 1) }},
		{"signature padded", func(u string) string { return r(u, "="+sig, "="+sig+"=", 1) }},
		{"signature longer", func(u string) string { return r(u, "="+sig, "="+sig+"AAAA", 1) }},
		{"signature zero", func(u string) string { return r(u, "="+sig, "="+strings.Repeat("A", 43), 1) }},
		{"signature empty", func(u string) string { return r(u, "="+sig, "=", 1) }},
		{"expiry twice", func(u string) string { return u + "&" + local.ParamExpires + "=" + exp }},
		{"key id twice", func(u string) string { return u + "&" + local.ParamKeyID + "=" + kid }},
		{"signature twice", func(u string) string { return u + "&" + local.ParamSignature + "=" + sig }},
		{"extra parameter", func(u string) string { return u + "&download=1" }},
		{"trailing ampersand", func(u string) string { return u + "&" }},
		{"parameter name case", func(u string) string {
			return r(u, local.ParamExpires, strings.ToLower(local.ParamExpires), 1)
		}},
		{"no expiry", func(u string) string { return r(u, local.ParamExpires+"="+exp+"&", "", 1) }},
		{"no key id", func(u string) string { return r(u, local.ParamKeyID+"="+kid+"&", "", 1) }},
		{"no signature", func(u string) string { return r(u, "&"+local.ParamSignature+"="+sig, "", 1) }},
		{"no query", func(u string) string { u, _, _ = strings.Cut(u, "?"); return u }},
		{"empty query", func(u string) string { u, _, _ = strings.Cut(u, "?"); return u + "?" }},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tampered := tt.mutate(signed)
			if tampered == signed {
				t.Fatalf("mutation left the URL unchanged: %s", signed)
			}
			resp, body := fx.get(t, tampered)
			wantRefused(t, resp, body)
		})
	}
}

func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// TestAnyByteChangeRefused replaces, inserts and deletes every byte of the
// path and query of signed URLs, one at a time, and expects a refusal each
// time.
func TestAnyByteChangeRefused(t *testing.T) {
	fx, _ := tamperFixture(t)
	const replacements = "A0%/&=-_.~+?;aZ9"

	for _, key := range []string{tamperKey, "dir/other.jpg"} {
		signed := fx.sign(t, key, time.Hour).URL
		start := len(testBaseURL)
		checked := 0

		try := func(u string) {
			t.Helper()
			checked++
			resp, body := fx.get(t, u)
			if resp.StatusCode < 400 {
				t.Fatalf("changed URL %q answered %d, want a refusal", u, resp.StatusCode)
			}
			if strings.Contains(body, "content of") {
				t.Fatalf("changed URL %q served a file", u)
			}
		}

		for i := start; i < len(signed); i++ {
			for _, c := range []byte(replacements) {
				if signed[i] != c {
					try(signed[:i] + string(c) + signed[i+1:])
				}
			}
			try(signed[:i] + signed[i+1:])
			try(signed[:i] + "A" + signed[i:])
		}
		try(signed + "A")
		if checked < 1000 {
			t.Fatalf("checked only %d changed URLs", checked)
		}
	}
}

func TestReorderedQueryAccepted(t *testing.T) {
	fx, signed := tamperFixture(t)
	base, _, _ := strings.Cut(signed, "?")
	exp := query(t, signed, local.ParamExpires)
	kid := query(t, signed, local.ParamKeyID)
	sig := query(t, signed, local.ParamSignature)

	reordered := base + "?" + local.ParamSignature + "=" + sig + "&" +
		local.ParamKeyID + "=" + kid + "&" + local.ParamExpires + "=" + exp
	resp, body := fx.get(t, reordered)
	wantStatus(t, resp, body, http.StatusOK)
	if body != "content of "+tamperKey {
		t.Fatalf("body %q, want the file of %q", body, tamperKey)
	}
}

func TestExpiry(t *testing.T) {
	// The URL is signed at startTime, 12:00:00.25, for one hour: it expires
	// at 13:00:00 exactly.
	tests := []struct {
		name       string
		advance    time.Duration
		wantStatus int
		wantMaxAge string
	}{
		{"just signed", 0, http.StatusOK, "3599"},
		{"half way", 30 * time.Minute, http.StatusOK, "1799"},
		{"whole seconds left", 29*time.Minute + 59*time.Second + 750*time.Millisecond,
			http.StatusOK, "1800"},
		{"last second", 59*time.Minute + 59*time.Second, http.StatusOK, "0"},
		{"at expiry", 59*time.Minute + 59*time.Second + 750*time.Millisecond,
			http.StatusForbidden, ""},
		{"one nanosecond late", time.Hour - 250*time.Millisecond + 1, http.StatusForbidden, ""},
		{"a day late", 25 * time.Hour, http.StatusForbidden, ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.file(t, "a.jpg", "jpeg bytes")
			signed := fx.sign(t, "a.jpg", time.Hour)
			fx.clock.Advance(tt.advance)

			resp, body := fx.get(t, signed.URL)
			wantStatus(t, resp, body, tt.wantStatus)
			if tt.wantStatus != http.StatusOK {
				wantExpiredAnswer(t, resp, body)
				return
			}

			want := "private, max-age=" + tt.wantMaxAge
			if got := resp.Header.Get("Cache-Control"); got != want {
				t.Fatalf("Cache-Control %q, want %q", got, want)
			}
		})
	}
}

func wantExpiredAnswer(t *testing.T, resp *http.Response, body string) {
	t.Helper()

	e := decodeError(t, body)
	if e.Error.Code != mediasign.CodeForbidden {
		t.Errorf("code %q, want %q", e.Error.Code, mediasign.CodeForbidden)
	}
	msg := e.Error.Message
	if !strings.Contains(msg, "expired at 2024-03-01T13:00:00Z") ||
		!strings.Contains(msg, "ask for a new URL") {
		t.Errorf("message %q, want when the URL expired and what to do", msg)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
}

// TestMaxAgeNeverOutlivesURL checks Cache-Control against the remaining
// validity at many instants of a URL's life.
func TestMaxAgeNeverOutlivesURL(t *testing.T) {
	fx := newFixture(t)
	fx.file(t, "a.jpg", "jpeg bytes")
	signed := fx.sign(t, "a.jpg", 10*time.Second)

	for step := 0; ; step++ {
		left := signed.ExpiresAt.Sub(fx.clock.Now())
		resp, body := fx.get(t, signed.URL)
		if left <= 0 {
			wantStatus(t, resp, body, http.StatusForbidden)
			break
		}
		wantStatus(t, resp, body, http.StatusOK)

		cc := resp.Header.Get("Cache-Control")
		age, err := strconv.Atoi(strings.TrimPrefix(cc, "private, max-age="))
		if err != nil || !strings.HasPrefix(cc, "private, ") {
			t.Fatalf("Cache-Control %q, want private, max-age=N", cc)
		}
		if time.Duration(age)*time.Second > left || left-time.Duration(age)*time.Second >= time.Second {
			t.Fatalf("step %d: max-age %d with %v left, want the whole seconds left", step, age, left)
		}
		fx.clock.Advance(333 * time.Millisecond)
	}
}

func TestRotation(t *testing.T) {
	fx := newFixture(t)
	fx.file(t, "a.jpg", "jpeg bytes")
	oldKey := fx.keyring.Active().ID
	oldURL := fx.sign(t, "a.jpg", time.Hour).URL

	newKey, err := fx.keyring.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if newKey == oldKey || fx.keyring.Active().ID != newKey {
		t.Fatalf("after Rotate the active key is %q, want the new key %q (old %q)",
			fx.keyring.Active().ID, newKey, oldKey)
	}
	newURL := fx.sign(t, "a.jpg", time.Hour).URL
	if got := query(t, newURL, local.ParamKeyID); got != newKey {
		t.Fatalf("new URL signed with key %q, want %q", got, newKey)
	}

	for name, u := range map[string]string{"old": oldURL, "new": newURL} {
		if resp, body := fx.get(t, u); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s URL after Rotate: status %d, body %q", name, resp.StatusCode, body)
		}
	}

	// Each key verifies only its own signatures.
	swapped := strings.Replace(oldURL, "="+oldKey, "="+newKey, 1)
	resp, body := fx.get(t, swapped)
	wantStatus(t, resp, body, http.StatusForbidden)

	if err := fx.keyring.Remove(oldKey); err != nil {
		t.Fatalf("Remove(%q): %v", oldKey, err)
	}
	resp, body = fx.get(t, oldURL)
	wantStatus(t, resp, body, http.StatusForbidden)
	if msg := decodeError(t, body).Error.Message; !strings.Contains(msg, "key") ||
		!strings.Contains(msg, "ask for a new URL") {
		t.Errorf("message %q, want it to say the key is gone and what to do", msg)
	}
	resp, body = fx.get(t, newURL)
	wantStatus(t, resp, body, http.StatusOK)

	// A process that opens the keyring file later sees the same keys.
	reopened, err := local.OpenKeyring(fx.keyring.Path())
	if err != nil {
		t.Fatalf("reopen keyring: %v", err)
	}
	if ids := keyIDs(reopened); len(ids) != 1 || ids[0] != newKey {
		t.Fatalf("reopened keyring has keys %v, want [%s]", ids, newKey)
	}
	fx.handler = local.NewHandler(fx.lookup, reopened, fx.clock, nil)
	for u, want := range map[string]int{newURL: http.StatusOK, oldURL: http.StatusForbidden} {
		if resp, body := fx.get(t, u); resp.StatusCode != want {
			t.Fatalf("reopened keyring: status %d, want %d; body %q", resp.StatusCode, want, body)
		}
	}
}

func keyIDs(kr *local.Keyring) []string {
	var ids []string
	for _, k := range kr.Keys() {
		ids = append(ids, k.ID)
	}
	return ids
}

func TestMethods(t *testing.T) {
	fx := newFixture(t)
	fx.file(t, "a.jpg", "jpeg bytes")
	signed := fx.sign(t, "a.jpg", time.Hour).URL

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions, "PROPFIND"} {
		t.Run(method, func(t *testing.T) {
			resp := fx.do(t, method, signed, nil)
			body := readBody(t, resp)
			wantStatus(t, resp, body, http.StatusMethodNotAllowed)
			if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("Allow %q, want GET, HEAD", got)
			}
			if strings.Contains(body, "jpeg bytes") {
				t.Errorf("a %s request got the file", method)
			}
		})
	}
}

func TestConnectionsRefused(t *testing.T) {
	fx := newFixture(t)
	fx.file(t, "a.jpg", "jpeg bytes")

	t.Run("unknown connection", func(t *testing.T) {
		s := fx.newStorage(t, localConn(70, fx.root), testBaseURL)
		resp, body := fx.get(t, signWith(t, s, "a.jpg", time.Hour).URL)
		wantStatus(t, resp, body, http.StatusForbidden)
	})
	t.Run("not a local connection", func(t *testing.T) {
		s := fx.newStorage(t, localConn(s3ConnID, fx.root), testBaseURL)
		resp, body := fx.get(t, signWith(t, s, "a.jpg", time.Hour).URL)
		wantStatus(t, resp, body, http.StatusForbidden)
	})
	t.Run("root moved after signing", func(t *testing.T) {
		signed := fx.sign(t, "a.jpg", time.Hour).URL
		other := filepath.Join(fx.parent, "other")
		mustMkdir(t, other)
		writeFile(t, filepath.Join(other, "a.jpg"), "other bytes")
		fx.setRoot(other)
		defer fx.setRoot(fx.root)

		resp, body := fx.get(t, signed)
		wantStatus(t, resp, body, http.StatusForbidden)
	})
	t.Run("lookup fails", func(t *testing.T) {
		s := fx.newStorage(t, localConn(brokenConnID, fx.root), testBaseURL)
		resp, body := fx.get(t, signWith(t, s, "a.jpg", time.Hour).URL)
		wantStatus(t, resp, body, http.StatusInternalServerError)
		if e := decodeError(t, body); e.Error.Code != mediasign.CodeInternal ||
			strings.Contains(body, "fire") {
			t.Fatalf("body %q, want a bare internal error", body)
		}
	})
}

func TestOnlyRegularFilesInsideRoot(t *testing.T) {
	fx := newFixture(t)
	fx.file(t, "album/a.jpg", "jpeg bytes")
	secretPath := filepath.Join(fx.parent, "secret.txt")
	symlink(t, "album/a.jpg", filepath.Join(fx.root, "good-link.jpg"))
	symlink(t, "../secret.txt", filepath.Join(fx.root, "escape.txt"))
	symlink(t, secretPath, filepath.Join(fx.root, "absolute.txt"))
	symlink(t, "../../secret.txt", filepath.Join(fx.root, "album", "up.txt"))
	symlink(t, "album/up.txt", filepath.Join(fx.root, "hop.txt"))
	symlink(t, "..", filepath.Join(fx.root, "parent"))
	symlink(t, "album", filepath.Join(fx.root, "album-link"))
	symlink(t, "nowhere.jpg", filepath.Join(fx.root, "dangling.jpg"))
	symlink(t, "loop-b", filepath.Join(fx.root, "loop-a"))
	symlink(t, "loop-a", filepath.Join(fx.root, "loop-b"))

	served := map[string]bool{"album/a.jpg": true, "good-link.jpg": true,
		"album-link/a.jpg": true}
	keys := []string{"album/a.jpg", "good-link.jpg", "album-link/a.jpg", "album",
		"album-link", "escape.txt", "absolute.txt", "album/up.txt", "hop.txt",
		"parent/secret.txt", "parent/media/album/a.jpg", "dangling.jpg", "loop-a",
		"missing.jpg", "album/missing.jpg"}

	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			resp, body := fx.get(t, fx.sign(t, key, time.Hour).URL)
			if served[key] {
				wantStatus(t, resp, body, http.StatusOK)
				if body != "jpeg bytes" {
					t.Fatalf("body %q, want the file", body)
				}
				return
			}
			wantStatus(t, resp, body, http.StatusNotFound)
			wantRefused(t, resp, body)
		})
	}
}

func TestNoSignedQueryInLogs(t *testing.T) {
	fx := newFixture(t)
	symlink(t, "../secret.txt", filepath.Join(fx.root, "escape.txt"))

	var urls []string
	urls = append(urls, fx.sign(t, "escape.txt", time.Hour).URL)
	broken := fx.newStorage(t, localConn(brokenConnID, fx.root), testBaseURL)
	urls = append(urls, signWith(t, broken, "a.jpg", time.Hour).URL)

	for _, u := range urls {
		resp, body := fx.get(t, u)
		if resp.StatusCode < 400 {
			t.Fatalf("status %d, want an error; body %q", resp.StatusCode, body)
		}
	}

	logs := fx.logs.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "level=WARN") {
		t.Fatalf("logs %q, want an error and a warning", logs)
	}
	for _, u := range urls {
		for _, name := range []string{local.ParamExpires, local.ParamKeyID, local.ParamSignature} {
			if v := query(t, u, name); strings.Contains(logs, v) {
				t.Errorf("logs hold the value of %s: %q", name, logs)
			}
		}
	}
	if strings.Contains(logs, "X-Mediasign") {
		t.Errorf("logs hold a signed query: %q", logs)
	}
}
