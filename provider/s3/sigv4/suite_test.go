package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/mediasign/mediasign/internal/testenv/vectors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// suiteContext is the context.json of one case of the AWS SigV4 suite.
type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	Expiration int64     `json:"expiration_in_seconds"`
	Normalize  bool      `json:"normalize"`
	Region     string    `json:"region"`
	Service    string    `json:"service"`
	SignBody   bool      `json:"sign_body"`
	Timestamp  time.Time `json:"timestamp"`
}

// suiteRequest is the request.txt of one case: the raw request target,
// host and other headers.
type suiteRequest struct {
	Method  string
	Target  string
	Host    string
	Headers []Header
}

// TestAWSSuite drives the engine with the GET cases of the AWS SigV4 test
// suite and compares the canonical request, string to sign, signature and
// signed URL with the expected files.
func TestAWSSuite(t *testing.T) {
	dir := filepath.Join(vectors.Dir(t), "aws-sigv4")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read suite: %v", err)
	}

	ran := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ran++
		t.Run(e.Name(), func(t *testing.T) {
			runSuiteCase(t, filepath.Join(dir, e.Name()))
		})
	}
	if ran < 20 {
		t.Fatalf("found %d suite cases, want the GET suite of at least 20", ran)
	}
}

// runSuiteCase checks one case folder.
func runSuiteCase(t *testing.T, dir string) {
	var ctx suiteContext
	if err := json.Unmarshal(readFile(t, dir, "context.json"), &ctx); err != nil {
		t.Fatalf("parse context: %v", err)
	}
	req := parseSuiteRequest(t, string(readFile(t, dir, "request.txt")))
	wantCanonical := string(readFile(t, dir, "query-canonical-request.txt"))
	path, query, _ := strings.Cut(req.Target, "?")

	r := &Request{
		Method:  req.Method,
		Path:    escapePathForTest(path),
		Time:    ctx.Timestamp,
		Expires: time.Duration(ctx.Expiration) * time.Second,
		Query:   parseSuiteQuery(t, query),
		Headers: req.Headers,
	}
	normalized := ctx.Normalize && normalizeForTest(r.Path) != r.Path
	if normalized {
		r.Path = normalizeForTest(r.Path)
	}

	emptyHash := sha256.Sum256(nil)
	s := newSigner(t, Config{
		Credentials: Credentials{
			AccessKeyID:     ctx.Credentials.AccessKeyID,
			SecretAccessKey: ctx.Credentials.SecretAccessKey,
			SessionToken:    ctx.Credentials.Token,
		},
		Region:      ctx.Region,
		Service:     ctx.Service,
		PayloadHash: hex.EncodeToString(emptyHash[:]),
		Scheme:      "https",
		Host:        req.Host,
	})
	got := presignTrace(t, s, r)

	compareText(t, "canonical request", got.Canonical, wantCanonical)
	compareText(t, "string to sign", got.StringToSign, string(readFile(t, dir, "query-string-to-sign.txt")))
	wantSig := strings.TrimSpace(string(readFile(t, dir, "query-signature.txt")))
	if !strings.HasSuffix(got.URL, "&X-Amz-Signature="+wantSig) {
		t.Errorf("URL %s does not end in signature %s", got.URL, wantSig)
	}
	if normalized {
		t.Skip("signature checked with the path normalized in the test; the suite's URL " +
			"keeps the raw path, which S3 never normalizes: the -unnormalized twin is the S3 truth")
	}
	compareSignedRequest(t, got, string(readFile(t, dir, "query-signed-request.txt")))
}

// normalizeForTest removes empty and dot segments from an absolute path the
// way the suite's normalizing services do, keeping a trailing slash.
func normalizeForTest(p string) string {
	var segs []string
	parts := strings.Split(p, "/")
	for _, part := range parts {
		switch part {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, part)
		}
	}

	out := "/" + strings.Join(segs, "/")
	last := parts[len(parts)-1]
	if len(segs) > 0 && (last == "" || last == "." || last == "..") {
		out += "/"
	}
	return out
}

// compareSignedRequest checks the URL against the suite's signed request.
// The suite keeps the request's own path and parameter order, so paths are
// compared decoded and parameters as sorted decoded pairs; the URL's query
// must besides be the canonical query followed by the signature.
func compareSignedRequest(t *testing.T, got trace, signed string) {
	t.Helper()

	line, _, _ := strings.Cut(signed, "\n")
	_, target := splitRequestLine(t, line)
	wantPath, wantQuery, _ := strings.Cut(target, "?")

	u, err := url.Parse(got.URL)
	if err != nil {
		t.Fatalf("parse URL: %v", err)
	}
	if u.Path != wantPath {
		t.Errorf("decoded path %q, want %q", u.Path, wantPath)
	}
	if g, w := decodedPairs(t, u.RawQuery), decodedPairs(t, wantQuery); !slices.Equal(g, w) {
		t.Errorf("query pairs\n got %q\nwant %q", g, w)
	}

	canonicalQuery := strings.Split(got.Canonical, "\n")[2]
	beforeSig, _, _ := strings.Cut(u.RawQuery, "&X-Amz-Signature=")
	if beforeSig != canonicalQuery {
		t.Errorf("URL query %q is not the canonical query %q", beforeSig, canonicalQuery)
	}
}

// decodedPairs returns the name=value pairs of a raw query, decoded and
// sorted.
func decodedPairs(t *testing.T, raw string) []string {
	t.Helper()

	var pairs []string
	for _, p := range parseSuiteQuery(t, raw) {
		pairs = append(pairs, p.Name+"="+p.Value)
	}
	slices.Sort(pairs)
	return pairs
}

// parseSuiteRequest reads a raw request: the request line, then headers,
// with indented lines continuing the previous header's value.
func parseSuiteRequest(t *testing.T, raw string) suiteRequest {
	t.Helper()

	lines := strings.Split(strings.TrimRight(raw, "\n"), "\n")
	method, target := splitRequestLine(t, lines[0])
	req := suiteRequest{Method: method, Target: target}

	for _, line := range lines[1:] {
		switch {
		case line == "":
		case line[0] == ' ' || line[0] == '\t':
			last := &req.Headers[len(req.Headers)-1]
			last.Value += " " + strings.TrimSpace(line)
		default:
			name, value, _ := strings.Cut(line, ":")
			req.Headers = append(req.Headers, Header{Name: name, Value: value})
		}
	}

	for i, h := range req.Headers {
		if strings.EqualFold(h.Name, "host") {
			req.Host = h.Value
			req.Headers = slices.Delete(req.Headers, i, i+1)
			break
		}
	}
	return req
}

// splitRequestLine returns the method and the target of a request line;
// the target may hold spaces.
func splitRequestLine(t *testing.T, line string) (method, target string) {
	t.Helper()

	method, rest, ok1 := strings.Cut(line, " ")
	i := strings.LastIndex(rest, " HTTP/")
	if !ok1 || i < 0 {
		t.Fatalf("request line %q is not METHOD TARGET HTTP/x", line)
	}
	return method, rest[:i]
}

// parseSuiteQuery splits a raw query into decoded parameters; unlike
// url.ParseQuery it keeps '+' a plus and keeps the order.
func parseSuiteQuery(t *testing.T, raw string) []Param {
	t.Helper()

	var params []Param
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		n, err1 := url.PathUnescape(name)
		v, err2 := url.PathUnescape(value)
		if err1 != nil || err2 != nil {
			t.Fatalf("decode query part %q: %v %v", part, err1, err2)
		}
		params = append(params, Param{Name: n, Value: v})
	}
	return params
}

// escapePathForTest encodes a raw path the S3 way, written apart from the
// engine's encoder: every byte but A-Z a-z 0-9 - . _ ~ / as %XX.
func escapePathForTest(p string) string {
	var b strings.Builder
	for _, c := range []byte(p) {
		if strings.IndexByte("-._~/", c) >= 0 || ('a' <= c && c <= 'z') ||
			('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// readFile returns the content of dir/name.
func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()

	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// compareText fails the test when got and want differ.
func compareText(t *testing.T, what, got, want string) {
	t.Helper()

	if got != want {
		t.Errorf("%s differs\n--- got\n%s\n--- want\n%s", what, got, want)
	}
}
