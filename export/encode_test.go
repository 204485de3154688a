package export

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

var awkwardStrings = []string{
	"", "plain/key.jpg", `quote"back\slash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
	"unicode/größe-写真-🙂.jpg", "bad\xffutf8\xc3", "\u2028line\u2029para", "<html>&amp;",
	"percent/%41%2F", strings.Repeat("long/", 300),
}

// TestAppendStringMatchesEncodingJSON decodes what appendString writes and
// compares it with what encoding/json makes of the same string.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range awkwardStrings {
		checkString(t, s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s)
	}
	f.Fuzz(checkString)
}

func checkString(t *testing.T, s string) {
	ours := appendString(nil, s)
	var got string
	if err := json.Unmarshal(ours, &got); err != nil {
		t.Fatalf("appendString(%q) = %s, not a JSON string: %v", s, ours, err)
	}
	theirs, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var want string
	if err := json.Unmarshal(theirs, &want); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("appendString(%q) decodes to %q, encoding/json's to %q", s, got, want)
	}
}

// TestEntryRoundTrip writes entries and reads them back with encoding/json.
func TestEntryRoundTrip(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, e := range []Entry{
		{ID: 1, Dataset: "train", Connection: "archive", Bucket: "media", Key: "a b+c#?.jpg",
			MediaType: "image/jpeg", Size: 123, URL: "https://h/b/a?X-Amz-Signature=ab&x=1",
			ExpiresAt: at, ResolverURL: "http://127.0.0.1:8080/m/1"},
		{ID: math.MaxInt64, Dataset: "d", Connection: "c", Key: "k", MediaType: "video/mp4",
			Size: 1 << 40, URL: "u", ExpiresAt: at, ThumbKey: "thumbs/k", ThumbURL: "t",
			ThumbExpiresAt: at.Add(-time.Hour), ResolverURL: "r"},
	} {
		var got Entry
		if err := json.Unmarshal(appendEntry(nil, &e), &got); err != nil {
			t.Fatalf("appendEntry(%+v): %v", e, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("round trip = %+v, want %+v", got, e)
		}
	}
}

// TestHeaderFitsItsPlace checks that any header of the same project and
// datasets fits the room reserved for the widest one, in both formats.
func TestHeaderFitsItsPlace(t *testing.T) {
	for _, format := range []mediasign.ExportFormat{mediasign.ExportJSON, mediasign.ExportJSONLines} {
		path := t.TempDir() + "/out" + Extension(format)
		h := Header{Project: "p\"q", Datasets: []DatasetRef{{ID: 1, Name: "a"}, {ID: 22, Name: "b"}},
			MinValidSeconds: 432000}
		x, err := createFile(path, format, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{{}, time.Unix(0, 0), time.Now(), latest} {
			x.count, x.earliest = 1, at
			if err := x.seal(at); err != nil {
				t.Errorf("%s: seal at %s: %v", format, at, err)
			}
		}
		x.abort()
	}
}
