package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/internal/testenv/s3server"
	"github.com/mediasign/mediasign/urlcache"
)

// awkwardKeys are object keys that URL signing gets wrong easily.
var awkwardKeys = []string{
	"plain/a.png", "space/my clip.png", "plus/libstdc++.png", "hash/a#1?.png",
	"unicode/café-日本.png", "percent/100%25 done.png", "quote/it's \"q\" & more.png",
	"semi/a;b,c=d@e.png", "tilde/~user/x.png",
}

// exported is an export file read back with encoding/json.
type exported struct {
	Header  export.Header
	Entries []export.Entry
}

// readExport parses an export file of either format with the standard
// library, failing on anything that is not exactly the documented shape.
func readExport(t *testing.T, path string, format mediasign.ExportFormat) exported {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out exported
	if format == mediasign.ExportJSON {
		var doc struct {
			Header  *export.Header `json:"header"`
			Entries []export.Entry `json:"entries"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil || doc.Header == nil {
			t.Fatalf("%s is not one JSON document with a header: %v", path, err)
		}
		if dec.More() {
			t.Fatalf("%s holds more than one JSON document", path)
		}
		return exported{Header: *doc.Header, Entries: doc.Entries}
	}

	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 0; sc.Scan(); n++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if n == 0 {
			var first struct {
				Header *export.Header `json:"header"`
			}
			if err := dec.Decode(&first); err != nil || first.Header == nil {
				t.Fatalf("line 1 of %s is not {\"header\": ...}: %v", path, err)
			}
			out.Header = *first.Header
			continue
		}
		var e export.Entry
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %d of %s: %v", n+1, path, err)
		}
		out.Entries = append(out.Entries, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkGuarantee checks the header against the entries and that every URL
// had at least M left when the file was generated.
func checkGuarantee(t *testing.T, got exported, m time.Duration, wantCount int) {
	t.Helper()
	h := got.Header
	if h.Count != int64(wantCount) || len(got.Entries) != wantCount {
		t.Fatalf("header count %d, %d entries, want %d", h.Count, len(got.Entries), wantCount)
	}
	if h.MinValidSeconds != int64(m/time.Second) {
		t.Errorf("header min_valid_seconds = %d, want %d", h.MinValidSeconds, int64(m/time.Second))
	}
	earliest := time.Time{}
	for _, e := range got.Entries {
		for _, exp := range []time.Time{e.ExpiresAt, e.ThumbExpiresAt} {
			if exp.IsZero() {
				continue
			}
			if earliest.IsZero() || exp.Before(earliest) {
				earliest = exp
			}
		}
	}
	if wantCount > 0 && !earliest.Equal(h.MinExpiresAt) {
		t.Errorf("header min_expires_at = %s, the earliest entry expires at %s", h.MinExpiresAt, earliest)
	}
	if h.MinExpiresAt.Sub(h.GeneratedAt) < m {
		t.Errorf("min_expires_at %s is %s after generated_at %s, want at least %s",
			h.MinExpiresAt, h.MinExpiresAt.Sub(h.GeneratedAt), h.GeneratedAt, m)
	}
}

// TestExportAgainstS3 exports two datasets of real images under awkward
// keys from a real S3 server, in both formats, with a short real policy,
// and fetches every URL of the files.
func TestExportAgainstS3(t *testing.T) {
	srv := s3server.Start(t)
	policy := urlcache.Policy{MinValid: 20 * time.Second, NewValid: 40 * time.Second}
	env := newEnv(t, envOptions{policy: policy, s3: srv})
	srv.CreateBucket(t, env.bucket)

	want := map[string][]byte{}
	train, val := env.dataset("train"), env.dataset("val")
	var files []mediasign.MediaFile
	for i, key := range awkwardKeys {
		body := []byte(fmt.Sprintf("image %d of key %q", i, key))
		srv.Put(t, env.bucket, "images/"+key, body, "image/png")
		want["images/"+key] = body
		f := mediasign.MediaFile{DatasetID: train.ID, ConnectionID: env.conn.ID, Bucket: env.bucket,
			Key: "images/" + key, MediaType: "image/png", Size: int64(len(body))}
		if i%2 == 0 {
			thumb := []byte("thumb " + key)
			srv.Put(t, env.bucket, "thumbs/"+key, thumb, "image/png")
			want["thumbs/"+key] = thumb
			f.ThumbKey = "thumbs/" + key
		}
		if i%3 == 2 {
			f.DatasetID = val.ID
		}
		files = append(files, f)
	}
	_, err := env.store.AddMedia(context.Background(), files)
	must(t, err)

	for _, format := range []mediasign.ExportFormat{mediasign.ExportJSONLines, mediasign.ExportJSON} {
		t.Run(string(format), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "export"+export.Extension(format))
			res := env.export(t, []*mediasign.Dataset{train, val}, format, path)
			got := readExport(t, path, format)
			checkGuarantee(t, got, policy.MinValid, len(awkwardKeys))
			if res.Count != int64(len(awkwardKeys)) || !res.MinExpiresAt.Equal(got.Header.MinExpiresAt) {
				t.Errorf("result %+v does not match the header %+v", res, got.Header)
			}
			checkEntries(t, env, got, want)
			checkWithJQ(t, path, format, len(awkwardKeys))
		})
	}
}

// checkEntries fetches every URL of the export and compares each entry
// with its media file.
func checkEntries(t *testing.T, env *env, got exported, want map[string][]byte) {
	t.Helper()
	datasets := map[string]bool{}
	for _, d := range got.Header.Datasets {
		datasets[d.Name] = true
	}
	for _, e := range got.Entries {
		if !datasets[e.Dataset] || e.Connection != "archive" || e.Bucket != env.bucket ||
			e.MediaType != "image/png" || e.Size != int64(len(want[e.Key])) {
			t.Errorf("entry %d = %+v, does not describe its media file", e.ID, e)
		}
		if e.ResolverURL != fmt.Sprintf("http://127.0.0.1:8080/m/%d", e.ID) {
			t.Errorf("entry %d resolver_url = %q", e.ID, e.ResolverURL)
		}
		fetchEqual(t, e.URL, want[e.Key])
		if (e.ThumbKey != "") != (e.ThumbURL != "") {
			t.Errorf("entry %d: thumb_key %q with thumb_url %q", e.ID, e.ThumbKey, e.ThumbURL)
		}
		if e.ThumbURL != "" {
			fetchEqual(t, e.ThumbURL, want[e.ThumbKey])
		}
	}
}

func fetchEqual(t *testing.T, u string, want []byte) {
	t.Helper()
	if parsed, err := url.Parse(u); err != nil || parsed.Hostname() != "127.0.0.1" {
		t.Fatalf("URL %q does not point at the test server", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET signed URL: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Errorf("GET %s = %d with %q, want 200 with %q", u, resp.StatusCode, body, want)
	}
}

// checkWithJQ parses the file with jq, when it is installed.
func checkWithJQ(t *testing.T, path string, format mediasign.ExportFormat, count int) {
	t.Helper()
	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Log("jq is not installed: the file was parsed with encoding/json only")
		return
	}
	program := `.header.count, (.entries | length)`
	args := []string{"-e", program, path}
	if format == mediasign.ExportJSONLines {
		args = []string{"-e", "-s", `(.[0].header.count), (.[1:] | map(select(.url)) | length)`, path}
	}
	out, err := exec.Command(jq, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("jq %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if want := fmt.Sprintf("%d\n%d\n", count, count); string(out) != want {
		t.Fatalf("jq says %q, want count and entries %d", out, count)
	}
}
