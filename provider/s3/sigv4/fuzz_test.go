package sigv4

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzPresignRoundTrip presigns GET URLs for arbitrary keys and response
// dispositions and checks the round trip: a standard URL parser gives back
// the exact key and disposition, the raw path is the canonical URI, the
// query is the canonical query, nothing hides in a fragment, and the SDK's
// v4 signer makes the same URL.
func FuzzPresignRoundTrip(f *testing.F) {
	for _, key := range []string{"videos/my clip.mp4", "pkgs/libstdc++-1.0.tgz",
		"docs/report_(1)=final@v2.pdf", "users/~alice/a.jpg", "notes/a#1?.txt",
		"/2024//clip.mp4", "a/./b/../c", "100%/a%2Fb", "фото/é.png", "\x00\xff/\x7f"} {
		f.Add(key, false, "")
		f.Add(key, true, `attachment; filename="`+key+`"`)
	}

	configs := map[bool]Config{
		false: {Region: caseRegion, Scheme: "https", Host: "s3.eu-north-1.amazonaws.com"},
		true:  {Region: caseRegion, Scheme: "http", Host: "minio.local:9000", PathStyle: true},
	}
	signers := map[bool]*Signer{}
	for pathStyle, cfg := range configs {
		cfg.Credentials = Credentials{AccessKeyID: caseAccessKey, SecretAccessKey: caseSecret}
		configs[pathStyle] = cfg
		signers[pathStyle] = newSigner(f, cfg)
	}

	f.Fuzz(func(t *testing.T, key string, pathStyle bool, disposition string) {
		r := &Request{Method: "GET", Bucket: caseBucket, Key: key, Time: caseTime,
			Expires: time.Hour, ResponseContentDisposition: disposition}
		if key == "" {
			if _, err := signers[pathStyle].Presign(r); err == nil {
				t.Fatal("an empty key was signed")
			}
			return
		}

		got := presignTrace(t, signers[pathStyle], r)
		prefix := "/"
		if pathStyle {
			prefix = "/" + caseBucket + "/"
		}
		checkRoundTrip(t, got, prefix+key, disposition)
		checkQueryIsCanonical(t, got)

		if sdk, _ := sdkPresign(t, configs[pathStyle], r); sdk != got.URL {
			t.Fatalf("URL differs from the SDK's\n ours %s\n SDK  %s", got.URL, sdk)
		}
	})
}

// checkRoundTrip fails the test unless the URL of got parses back to path
// and disposition, and its raw path is the canonical URI.
func checkRoundTrip(t *testing.T, got trace, path, disposition string) {
	t.Helper()

	u, err := url.Parse(got.URL)
	if err != nil {
		t.Fatalf("parse %q: %v", got.URL, err)
	}
	if u.Path != path || u.Fragment != "" || strings.Contains(got.URL, "#") {
		t.Fatalf("URL %q parses to path %q and fragment %q, want %q and none",
			got.URL, u.Path, u.Fragment, path)
	}

	rawPath := strings.TrimPrefix(got.URL, u.Scheme+"://"+u.Host)
	rawPath, _, _ = strings.Cut(rawPath, "?")
	if rawPath != canonicalLine(got, 1) {
		t.Fatalf("raw path %q is not the canonical URI %q", rawPath, canonicalLine(got, 1))
	}
	if decoded, err := url.PathUnescape(rawPath); err != nil || decoded != path {
		t.Fatalf("raw path %q decodes to %q (%v), want %q", rawPath, decoded, err, path)
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("parse query %q: %v", u.RawQuery, err)
	}
	if disposition != "" && q.Get("response-content-disposition") != disposition {
		t.Fatalf("disposition %q came back as %q", disposition, q.Get("response-content-disposition"))
	}
}
