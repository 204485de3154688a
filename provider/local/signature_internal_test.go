package local

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

func TestCheckObjectKey(t *testing.T) {
	tests := []struct {
		key  string
		want string
	}{
		{"a.jpg", ""},
		{"a/b/c.jpg", ""},
		{"a..b", ""},
		{"a.", ""},
		{"with space", ""},
		{"caf\u00e9", ""},
		{"\xff", ""},
		{"%2e%2e", ""},
		{strings.Repeat("k", 4096), ""},
		{"", "key is empty"},
		{strings.Repeat("k", 4097), "longer than 4096 bytes"},
		{"a\x00b", "NUL byte"},
		{"a\\b", "backslash"},
		{"..\\a", "backslash"},
		{"/a", "starts with a slash"},
		{"a/", "ends with a slash"},
		{"a//b", "empty path segment"},
		{".", "starts with a dot"},
		{"..", "starts with a dot"},
		{"../a", "starts with a dot"},
		{"a/../b", "starts with a dot"},
		{"a/./b", "starts with a dot"},
		{".hidden", "starts with a dot"},
		{"a/.hidden/b", "starts with a dot"},
	}

	for _, tt := range tests {
		t.Run(strconv.Quote(tt.key), func(t *testing.T) {
			got := checkObjectKey(tt.key)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("checkObjectKey(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestAppendEscapedKey(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	escaped := string(appendEscapedKey(nil, string(all)))

	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		switch {
		case c == '%':
			hex := escaped[i+1 : i+3]
			if strings.ToUpper(hex) != hex {
				t.Fatalf("escape %%%s is not upper case", hex)
			}
			i += 2
		case !isUnreserved(c) && c != '/':
			t.Fatalf("byte %q left unescaped in %q", c, escaped)
		}
	}

	back, err := url.PathUnescape(escaped)
	if err != nil || back != string(all) {
		t.Fatalf("unescaping gave %q, %v; want every byte back", back, err)
	}
	if got := string(appendEscapedKey(nil, "a b/c+d%e~f")); got != "a%20b/c%2Bd%25e~f" {
		t.Fatalf("escaped %q, want a%%20b/c%%2Bd%%25e~f", got)
	}
}

var baseFields = signedFields{keyID: "k1", method: mediasign.MethodGet, connID: 7,
	root: "/srv/media", key: "a/b.jpg", expires: 1709298000}

func TestMACCoversEveryField(t *testing.T) {
	secret := bytes.Repeat([]byte{1}, 32)
	base := computeMAC(secret, baseFields)

	tests := []struct {
		name string
		edit func(*signedFields)
	}{
		{"key id", func(f *signedFields) { f.keyID = "k2" }},
		{"method", func(f *signedFields) { f.method = mediasign.MethodPut }},
		{"connection", func(f *signedFields) { f.connID = 8 }},
		{"root", func(f *signedFields) { f.root = "/srv/other" }},
		{"key", func(f *signedFields) { f.key = "a/b.jpeg" }},
		{"key normalization", func(f *signedFields) { f.key = "a/b\u0301.jpg" }},
		{"expiry", func(f *signedFields) { f.expires++ }},
		// Length prefixes keep a byte from moving between fields.
		{"byte moved from root to key", func(f *signedFields) {
			f.root, f.key = "/srv/medi", "aa/b.jpg"
		}},
		{"byte moved from key id to method", func(f *signedFields) {
			f.keyID, f.method = "k", "1GET"
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := baseFields
			tt.edit(&f)
			if bytes.Equal(computeMAC(secret, f), base) {
				t.Fatalf("the MAC does not change with the %s", tt.name)
			}
		})
	}

	t.Run("secret", func(t *testing.T) {
		if bytes.Equal(computeMAC(bytes.Repeat([]byte{2}, 32), baseFields), base) {
			t.Fatalf("the MAC does not change with the secret")
		}
	})
	t.Run("clean root", func(t *testing.T) {
		f := baseFields
		f.root = "/srv/./media/"
		if !bytes.Equal(computeMAC(secret, f), base) {
			t.Fatalf("two spellings of one root give different MACs")
		}
	})
}

func TestParseSignedQuery(t *testing.T) {
	sig := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))
	good := ParamExpires + "=1709298000&" + ParamKeyID + "=k_1-A&" + ParamSignature + "=" + sig

	tests := []struct {
		name    string
		raw     string
		wantErr string
	}{
		{"good", good, ""},
		{"reordered", ParamSignature + "=" + sig + "&" + ParamKeyID + "=k_1-A&" +
			ParamExpires + "=1709298000", ""},
		{"empty", "", "not signed"},
		{"extra", good + "&x=1", "not signed"},
		{"empty part", good + "&", "not signed"},
		{"duplicate", good + "&" + ParamKeyID + "=k_1-A", "more than once"},
		{"missing expiry", strings.Replace(good, ParamExpires+"=1709298000&", "", 1),
			"missing " + ParamExpires},
		{"expiry sign", strings.Replace(good, "=1709298000", "=+1709298000", 1), "malformed"},
		{"expiry negative", strings.Replace(good, "=1709298000", "=-1", 1), "malformed"},
		{"expiry leading zero", strings.Replace(good, "=1709298000", "=01709298000", 1),
			"malformed"},
		{"expiry escaped", strings.Replace(good, "=1709298000", "=%31709298000", 1),
			"malformed"},
		{"expiry huge", strings.Replace(good, "=1709298000", "=9999999999999999999", 1),
			"malformed"},
		{"key id escaped", strings.Replace(good, "=k_1-A", "=k%5F1-A", 1), "malformed"},
		{"key id empty", strings.Replace(good, "=k_1-A", "=", 1), "malformed"},
		{"signature padded", good + "=", "malformed"},
		{"signature std alphabet", strings.Replace(good, "=-", "=+", 1), "malformed"},
		{"signature short", good[:len(good)-1], "malformed"},
		{"signature non-zero tail bits", good[:len(good)-1] + "_", "malformed"},
		{"name escaped", strings.Replace(good, "X-Mediasign-Key", "X%2DMediasign-Key", 1),
			"not signed"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, herr := parseSignedQuery(tt.raw)
			if tt.wantErr == "" {
				if herr != nil {
					t.Fatalf("parseSignedQuery: %v", herr)
				}
				if q.expires != 1709298000 || q.keyID != "k_1-A" || len(q.signature) != 32 {
					t.Fatalf("parsed %+v", q)
				}
				return
			}
			if herr == nil || !strings.Contains(herr.message, tt.wantErr) ||
				herr.status != http.StatusForbidden {
				t.Fatalf("parseSignedQuery = %v, want a 403 saying %q", herr, tt.wantErr)
			}
		})
	}
}

// TestHandlerRefusesSignedEscapes signs keys that SignURL refuses with the
// real secret, as a stolen key could, and checks that the handler still
// never leaves the root.
func TestHandlerRefusesSignedEscapes(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "media")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	kr, err := OpenKeyring(filepath.Join(parent, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	conn := &mediasign.Connection{ID: 7, Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: root}}
	h := NewHandler(func(context.Context, int64) (*mediasign.Connection, error) {
		return conn, nil
	}, kr, nil, nil)

	expires := time.Now().Add(time.Hour).Unix()
	for _, key := range []string{"../secret.txt", "a/../../secret.txt", "/secret.txt",
		parent + "/secret.txt", "..\\secret.txt", ".", "..", "", "a/", "a//../secret.txt",
		"secret.txt\x00.jpg"} {
		t.Run(strconv.Quote(key), func(t *testing.T) {
			kid, secret := kr.active()
			mac := computeMAC(secret, signedFields{keyID: kid, method: mediasign.MethodGet,
				connID: 7, root: root, key: key, expires: expires})

			target := FilesPath + "7/" + string(appendEscapedKey(nil, key)) + "?" +
				ParamExpires + "=" + strconv.FormatInt(expires, 10) + "&" + ParamKeyID + "=" +
				kid + "&" + ParamSignature + "=" + base64.RawURLEncoding.EncodeToString(mac)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))

			if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "SECRET") {
				t.Fatalf("status %d, body %q; want a 404 without the secret",
					rec.Code, rec.Body.String())
			}
		})
	}
}
