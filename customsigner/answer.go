package customsigner

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

// answer is what a signer sends for one key: the whole body of a single
// call, or one entry of a batch.
type answer struct {
	URL       string            `json:"url"`
	ExpiresAt json.RawMessage   `json:"expires_at,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`

	// Status is set by batch entries that did not sign: 401 or 403 for a
	// refusal, 409 for an upload whose object exists.
	Status int `json:"status,omitempty"`
}

// batchAnswer is the body of a batch call: one result per item, in order.
type batchAnswer struct {
	Results []answer `json:"results"`
}

// Problems with an answer. None of them quotes the answer, which may hold
// a signature.
var (
	errNotJSON     = errors.New("answer is not a JSON object")
	errNoURL       = errors.New(`answer has no "url"`)
	errBadURL      = errors.New(`answer "url" is not an absolute http(s) URL`)
	errBadExpiry   = errors.New(`answer "expires_at" is neither RFC 3339 nor unix seconds`)
	errExpired     = errors.New("answer holds a URL that has already expired")
	errBadHeaders  = errors.New(`answer "headers" holds a name or value that is not allowed`)
	errBatchLength = errors.New("batch answer has not one result per item")
)

func decodeAnswer(body []byte) (answer, error) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return answer{}, errNotJSON
	}
	return a, nil
}

func decodeBatch(body []byte, n int) ([]answer, error) {
	var b batchAnswer
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, errNotJSON
	}
	if len(b.Results) != n {
		return nil, errBatchLength
	}
	return b.Results, nil
}

// signed checks a successful answer and turns it into a signed URL. The URL
// is kept byte for byte; its expiry is the earliest of what was asked, the
// answer's expires_at and what the URL's own parameters say. assumed reports
// that neither told an expiry, so the asked validity was taken on trust.
func signed(a answer, req mediasign.SignRequest, now time.Time) (
	u mediasign.SignedURL, assumed bool, err error) {
	parsed, err := checkURL(a.URL)
	if err != nil {
		return mediasign.SignedURL{}, false, err
	}
	exp, known, err := urlExpiry(a.ExpiresAt, parsed, req, now)
	if err != nil {
		return mediasign.SignedURL{}, false, err
	}
	if !exp.After(now) {
		return mediasign.SignedURL{}, false, errExpired
	}

	u = mediasign.SignedURL{URL: a.URL, ExpiresAt: exp}
	if req.Method == mediasign.MethodPut {
		if u.Headers, err = uploadHeaders(a.Headers, req.ContentType); err != nil {
			return mediasign.SignedURL{}, false, err
		}
	}
	return u, !known, nil
}

func checkURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errNoURL
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return nil, errBadURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return nil, errBadURL
	}
	return u, nil
}

// uploadSlack is how much longer than asked an upload URL from a signer may
// stay valid, for clocks that differ and validities rounded up.
const uploadSlack = 60 * time.Second

// tooLong says a signer's upload URL stays valid longer than was asked.
type tooLong struct {
	asked time.Duration
	until time.Time
}

func (e tooLong) Error() string {
	return fmt.Sprintf("answer holds an upload URL valid until %s, more than %s after the "+
		"%d s asked", e.until.Format(time.RFC3339), uploadSlack, int64(e.asked/time.Second))
}

// urlExpiry returns when the answer's URL stops working. A view URL counts
// as expiring at the earliest of what was asked and what the signer told,
// which is what caching needs. An upload URL reports its own expiry, and
// one valid for longer than asked (plus uploadSlack) is refused, because
// it would let an upload happen long after the answer's expires_at.
func urlExpiry(raw json.RawMessage, u *url.URL, req mediasign.SignRequest,
	now time.Time) (time.Time, bool, error) {
	asked := now.Add(req.Expires)
	if req.Method != mediasign.MethodPut {
		return expiry(raw, u, asked)
	}
	exp, known, err := expiry(raw, u, time.Time{})
	switch {
	case err != nil:
		return time.Time{}, false, err
	case !known:
		return asked, false, nil
	case exp.After(asked.Add(uploadSlack)):
		return time.Time{}, false, tooLong{asked: req.Expires, until: exp}
	}
	return exp, true, nil
}

// expiry returns the earliest of limit (none when zero), the answer's expires_at and the
// expiry in the URL's parameters, and whether the signer told one at all.
func expiry(raw json.RawMessage, u *url.URL, limit time.Time) (time.Time, bool, error) {
	exp, known := limit, false
	if len(raw) > 0 && string(raw) != "null" {
		t, err := parseExpiresAt(raw)
		if err != nil {
			return time.Time{}, false, err
		}
		exp, known = earliest(exp, t), true
	}
	if t, ok := ExpiryInURL(u); ok {
		exp, known = earliest(exp, t), true
	}
	return exp, known, nil
}

// earliest returns the earlier of a and b; a zero time counts as no limit.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// parseExpiresAt reads an RFC 3339 string or a number of unix seconds.
func parseExpiresAt(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, errBadExpiry
		}
		return t, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, errBadExpiry
	}
	secs, err := n.Int64()
	if err != nil || secs <= 0 {
		return time.Time{}, errBadExpiry
	}
	return time.Unix(secs, 0).UTC(), nil
}

// ExpiryInURL reads when a presigned URL stops working from its own
// parameters: X-Amz-Date with X-Amz-Expires (S3 SigV4), X-Goog-Date with
// X-Goog-Expires (GCS V4), se (Azure SAS, with sig) or Expires (S3 SigV2
// and CloudFront, with Signature). When several are present the earliest
// counts.
func ExpiryInURL(u *url.URL) (time.Time, bool) {
	q := u.Query()
	var found []time.Time
	for _, prefix := range []string{"X-Amz-", "X-Goog-"} {
		if t, ok := dateAndSeconds(q.Get(prefix+"Date"), q.Get(prefix+"Expires")); ok {
			found = append(found, t)
		}
	}
	if q.Get("sig") != "" {
		if t, ok := azureTime(q.Get("se")); ok {
			found = append(found, t)
		}
	}
	if q.Get("Signature") != "" {
		if secs, err := strconv.ParseInt(q.Get("Expires"), 10, 64); err == nil && secs > 0 {
			found = append(found, time.Unix(secs, 0).UTC())
		}
	}
	if len(found) == 0 {
		return time.Time{}, false
	}
	exp := found[0]
	for _, t := range found[1:] {
		exp = earliest(exp, t)
	}
	return exp, true
}

// dateAndSeconds reads a SigV4-style signing time (20060102T150405Z) plus a
// validity in seconds.
func dateAndSeconds(date, seconds string) (time.Time, bool) {
	if date == "" || seconds == "" {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(seconds, 10, 64)
	if err != nil || n < 0 || n > 10*365*24*3600 {
		return time.Time{}, false
	}
	return t.Add(time.Duration(n) * time.Second), true
}

// azureTime reads the se parameter of an Azure SAS: a UTC time, possibly
// without seconds, or a date alone.
func azureTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// uploadHeaders checks the headers a signer requires of an upload and adds
// the Content-Type the request was signed for when the signer left it out.
func uploadHeaders(h map[string]string, contentType string) (map[string]string, error) {
	out := make(map[string]string, len(h)+1)
	for name, value := range h {
		if !validHeader(name, value) {
			return nil, errBadHeaders
		}
		out[name] = value
	}
	if contentType != "" && !hasHeader(out, "Content-Type") {
		out["Content-Type"] = contentType
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func validHeader(name, value string) bool {
	if name == "" || len(name) > 256 || len(value) > 8192 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenByte(name[i]) {
			return false
		}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// statusError describes an answer status without the body.
func statusError(code int) error {
	return fmt.Errorf("signer answered %d %s", code, httpStatusText(code))
}
