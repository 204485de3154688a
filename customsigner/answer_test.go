package customsigner

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestAnswerExpiry(t *testing.T) {
	asked := 6 * 24 * time.Hour
	for _, tc := range []struct {
		name    string
		body    string
		want    time.Time
		assumed bool
		err     error
	}{
		{"asked validity when nothing tells", `{"url":"https://x.test/a?sig=1"}`,
			now.Add(asked), true, nil},
		{"expires_at string", `{"url":"https://x.test/a","expires_at":"2026-06-02T12:00:00Z"}`,
			now.Add(24 * time.Hour), false, nil},
		{"expires_at unix", `{"url":"https://x.test/a","expires_at":1780401600}`,
			time.Unix(1780401600, 0).UTC(), false, nil},
		{"expires_at later than asked is cut", `{"url":"https://x.test/a","expires_at":"2027-01-01T00:00:00Z"}`,
			now.Add(asked), false, nil},
		{"s3 sigv4 parameters",
			`{"url":"https://b.s3.amazonaws.com/k?X-Amz-Date=20260601T110000Z&X-Amz-Expires=7200&X-Amz-Signature=ab"}`,
			now.Add(time.Hour), false, nil},
		{"gcs v4 parameters",
			`{"url":"https://storage.googleapis.com/b/k?X-Goog-Date=20260601T120000Z&X-Goog-Expires=60&X-Goog-Signature=ab"}`,
			now.Add(time.Minute), false, nil},
		{"azure se", `{"url":"https://a.blob.core.windows.net/c/k?sv=2022-11-02&se=2026-06-01T15:00:00Z&sig=ab"}`,
			now.Add(3 * time.Hour), false, nil},
		{"azure se date only", `{"url":"https://a.blob.core.windows.net/c/k?se=2026-06-03&sig=ab"}`,
			time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC), false, nil},
		{"sigv2 Expires", `{"url":"https://b.s3.amazonaws.com/k?Expires=1780322400&Signature=ab"}`,
			time.Unix(1780322400, 0).UTC(), false, nil},
		{"earliest of answer and url",
			`{"url":"https://h/k?X-Amz-Date=20260601T120000Z&X-Amz-Expires=600&X-Amz-Signature=a","expires_at":"2026-06-01T12:05:00Z"}`,
			now.Add(5 * time.Minute), false, nil},
		{"se without sig is not read", `{"url":"https://h/k?se=2026-06-01T13:00:00Z"}`,
			now.Add(asked), true, nil},
		{"already expired", `{"url":"https://h/k","expires_at":"2026-06-01T11:00:00Z"}`,
			time.Time{}, false, errExpired},
		{"bad expires_at", `{"url":"https://h/k","expires_at":"tomorrow"}`,
			time.Time{}, false, errBadExpiry},
		{"no url", `{"expires_at":"2026-06-02T00:00:00Z"}`, time.Time{}, false, errNoURL},
		{"relative url", `{"url":"/b/k?sig=1"}`, time.Time{}, false, errBadURL},
		{"scheme-relative url", `{"url":"//h/b/k"}`, time.Time{}, false, errBadURL},
		{"javascript url", `{"url":"javascript:alert(1)"}`, time.Time{}, false, errBadURL},
		{"url with a space", `{"url":"https://h/a b"}`, time.Time{}, false, errBadURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := decodeAnswer([]byte(tc.body))
			must(t, err)
			u, assumed, err := signed(a, mediasign.SignRequest{Method: mediasign.MethodGet,
				Expires: asked}, now)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			must(t, err)
			if !u.ExpiresAt.Equal(tc.want) || assumed != tc.assumed {
				t.Fatalf("expires %v assumed %v, want %v assumed %v", u.ExpiresAt, assumed,
					tc.want, tc.assumed)
			}
			var raw map[string]any
			must(t, json.Unmarshal([]byte(tc.body), &raw))
			if u.URL != raw["url"] {
				t.Fatalf("url %q is not the answer's byte for byte", u.URL)
			}
		})
	}
}

func TestAnswerIsNotJSON(t *testing.T) {
	for _, body := range []string{"", "<html>", `"just a string"`, `[1,2]`, `{"url":`} {
		if _, err := decodeAnswer([]byte(body)); !errors.Is(err, errNotJSON) {
			t.Errorf("%q: error %v, want not JSON", body, err)
		}
	}
}

func TestUploadHeaders(t *testing.T) {
	req := mediasign.SignRequest{Method: mediasign.MethodPut, Expires: time.Hour,
		ContentType: "image/png"}
	a := answer{URL: "https://h/k", Headers: map[string]string{"x-amz-acl": "private"}}
	u, _, err := signed(a, req, now)
	must(t, err)
	if u.Headers["x-amz-acl"] != "private" || u.Headers["Content-Type"] != "image/png" {
		t.Fatalf("headers %v, want the signer's and the Content-Type", u.Headers)
	}

	a.Headers = map[string]string{"content-type": "image/webp"}
	u, _, err = signed(a, req, now)
	must(t, err)
	if len(u.Headers) != 1 || u.Headers["content-type"] != "image/webp" {
		t.Fatalf("headers %v, want the signer's own Content-Type only", u.Headers)
	}

	for _, bad := range []map[string]string{{"X-Bad Name": "v"}, {"X-Inject": "a\r\nb: c"},
		{"": "v"}} {
		a.Headers = bad
		if _, _, err := signed(a, req, now); !errors.Is(err, errBadHeaders) {
			t.Errorf("headers %q: error %v, want refused", bad, err)
		}
	}
}

// TestUploadExpiryIsTheURLs checks that an upload URL reports its own
// expiry and that one valid for longer than asked is refused.
func TestUploadExpiryIsTheURLs(t *testing.T) {
	req := mediasign.SignRequest{Method: mediasign.MethodPut, Expires: time.Hour}
	amz := func(secs int) string {
		return `"https://b.s3.test/k?X-Amz-Date=20260601T120000Z&X-Amz-Expires=` +
			strconv.Itoa(secs) + `&X-Amz-Signature=ab"`
	}
	for _, tc := range []struct {
		name string
		body string
		want time.Time // zero: refused as too long
	}{
		{"nothing tells", `{"url":"https://x.test/a?sig=1"}`, now.Add(time.Hour)},
		{"shorter than asked", `{"url":` + amz(1800) + `}`, now.Add(30 * time.Minute)},
		{"within the slack", `{"url":` + amz(3660) + `}`, now.Add(3660 * time.Second)},
		{"seven days in the URL", `{"url":` + amz(604800) + `}`, time.Time{}},
		{"expires_at in 2099", `{"url":"https://x.test/a","expires_at":"2099-01-01T00:00:00Z"}`,
			time.Time{}},
		{"URL short, expires_at long", `{"url":` + amz(1800) +
			`,"expires_at":"2099-01-01T00:00:00Z"}`, now.Add(30 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := decodeAnswer([]byte(tc.body))
			must(t, err)
			u, _, err := signed(a, req, now)
			var long tooLong
			if tc.want.IsZero() {
				if !errors.As(err, &long) {
					t.Fatalf("error %v, want the URL refused as valid too long", err)
				}
				return
			}
			must(t, err)
			if !u.ExpiresAt.Equal(tc.want) {
				t.Fatalf("expires_at %v, want %v", u.ExpiresAt, tc.want)
			}
		})
	}
}
