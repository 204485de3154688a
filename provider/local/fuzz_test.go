package local_test

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/provider/local"
)

// roundTripConnID is the connection whose root each fuzz input gets anew.
const roundTripConnID = 10

// maxRoundTripDepth is the number of slashes up to which a fuzzed key is
// created on disk and served back.
const maxRoundTripDepth = 64

// fuzzSeeds are keys that reach the edges of the key rules and of the tree
// that FuzzSignServeRoundTrip serves.
var fuzzSeeds = []string{
	"album/a.jpg", "good-link.jpg", "album-link/a.jpg", "album", "escape.txt",
	"absolute.txt", "hop.txt", "parent/secret.txt", "parent/media/album/a.jpg",
	"dangling.jpg", "loop-a", "missing.jpg", "secret.txt", "../secret.txt",
	"album/../../secret.txt", "/etc/passwd", "", ".", "..", "./a", "a/", "a//b",
	".hidden", "a/.hidden", "a\x00b", "a\\b", "..\\secret.txt", "%2e%2e/secret.txt",
	"..%2Fsecret.txt", "%2F", "a%00b", "C:/secret.txt", "\xff\xfe",
	strings.Repeat("d/", maxRoundTripDepth) + "x", strings.Repeat("d/", 2000) + "x", strings.Repeat("n", 256), strings.Repeat("k", 4097),
}

// FuzzSignServeRoundTrip signs arbitrary keys and serves them. A key is
// either refused when signed, with an invalid-argument error, or its URL
// serves the regular file inside the root that the key names, or a clean
// 404: never a file outside the root, never a panic. Each signable key is
// then created in an empty root and must come back byte for byte.
func FuzzSignServeRoundTrip(f *testing.F) {
	for _, key := range append(awkwardKeys, fuzzSeeds...) {
		f.Add(key)
	}

	fx := newFixture(f)
	layOutEscapes(f, fx)
	fx.handler = local.NewHandler(fx.lookup, fx.keyring, fx.clock, nil)

	f.Fuzz(func(t *testing.T, key string) {
		signed, err := fx.storage.SignURL(t.Context(), mediasign.SignRequest{Key: key,
			Method: mediasign.MethodGet, Expires: time.Hour})
		if err != nil {
			if errorCode(err) != mediasign.CodeInvalid {
				t.Fatalf("SignURL(%q) = %v, want an invalid-argument error", key, err)
			}
			return
		}

		resp, body := fx.get(t, signed.URL)
		checkFixedTree(t, fx, key, resp, body)

		// Deep trees cost a tenth of a second each to make and remove, which
		// would slow the fuzzer tenfold; the seeds hold deep keys.
		if strings.Count(key, "/") <= maxRoundTripDepth {
			roundTrip(t, fx, key)
		}
	})
}

// layOutEscapes fills the root with a file and with links that lead inside
// and outside it.
func layOutEscapes(t testing.TB, fx *fixture) {
	t.Helper()

	fx.file(t, "album/a.jpg", "jpeg bytes")
	symlink(t, "album/a.jpg", filepath.Join(fx.root, "good-link.jpg"))
	symlink(t, "../secret.txt", filepath.Join(fx.root, "escape.txt"))
	symlink(t, filepath.Join(fx.parent, "secret.txt"), filepath.Join(fx.root, "absolute.txt"))
	symlink(t, "../../secret.txt", filepath.Join(fx.root, "album", "up.txt"))
	symlink(t, "album/up.txt", filepath.Join(fx.root, "hop.txt"))
	symlink(t, "..", filepath.Join(fx.root, "parent"))
	symlink(t, "album", filepath.Join(fx.root, "album-link"))
	symlink(t, "nowhere.jpg", filepath.Join(fx.root, "dangling.jpg"))
	symlink(t, "loop-b", filepath.Join(fx.root, "loop-a"))
	symlink(t, "loop-a", filepath.Join(fx.root, "loop-b"))
}

// checkFixedTree checks the answer for key against the file system: a 200
// only for a regular file whose real path lies inside the root, with its
// content; a JSON 404 otherwise.
func checkFixedTree(t *testing.T, fx *fixture, key string, resp *http.Response, body string) {
	t.Helper()

	if strings.Contains(body, outsideSecret) {
		t.Fatalf("key %q served the file outside the root", key)
	}

	want, inside := fileInsideRoot(t, fx.root, key)
	switch {
	case inside && resp.StatusCode != http.StatusOK:
		t.Fatalf("key %q: status %d, want 200; body %q", key, resp.StatusCode, body)
	case inside && body != want:
		t.Fatalf("key %q: body %q, want %q", key, body, want)
	case !inside && resp.StatusCode != http.StatusNotFound:
		t.Fatalf("key %q: status %d, want 404; body %q", key, resp.StatusCode, body)
	}
}

// fileInsideRoot returns the content of the regular file that key names
// when its real path, and the real path of every directory on the way, lies
// inside root: a link that leads out and back in does not count as inside.
func fileInsideRoot(t *testing.T, root, key string) (string, bool) {
	t.Helper()

	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}

	var real string
	segs := strings.Split(key, "/")
	for i := range segs {
		real, err = filepath.EvalSymlinks(filepath.Join(root, filepath.Join(segs[:i+1]...)))
		if err != nil || !strings.HasPrefix(real, realRoot+string(filepath.Separator)) {
			return "", false
		}
	}

	info, err := os.Stat(real)
	if err != nil || !info.Mode().IsRegular() {
		return "", false
	}
	data, err := os.ReadFile(real)
	if err != nil {
		t.Fatalf("read %s: %v", real, err)
	}
	return string(data), true
}

// roundTrip creates the file key in an empty root and serves it through a
// URL signed for that root.
func roundTrip(t *testing.T, fx *fixture, key string) {
	t.Helper()

	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	content := "round trip of " + key
	if dir := path.Dir(key); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return // A name the file system does not take, such as one too long.
		}
	}
	if err := root.WriteFile(key, []byte(content), 0o644); err != nil {
		return
	}

	s := fx.newStorage(t, fx.addConn(roundTripConnID, dir), testBaseURL)
	resp, body := fx.get(t, signWith(t, s, key, time.Hour).URL)
	if resp.StatusCode != http.StatusOK || body != content {
		t.Fatalf("key %q created in an empty root: status %d, body %q; want 200 and %q",
			key, resp.StatusCode, body, content)
	}
}
