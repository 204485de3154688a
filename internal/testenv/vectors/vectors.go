// Package vectors finds the public signing test vectors for tests: the AWS
// SigV4 suite, the GCS conformance cases and the AWS documentation example.
// It is a test tool: the product never imports this package.
package vectors

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvDir names a directory to use instead of ../shared/vectors beside the
// module root.
const EnvDir = "MEDIASIGN_VECTORS_DIR"

// Dir returns the directory of the vectors and skips the test, saying why,
// when it is not there.
func Dir(t testing.TB) string {
	t.Helper()

	if dir := os.Getenv(EnvDir); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("get working directory: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			vectors := filepath.Join(dir, "..", "shared", "vectors")
			if _, err := os.Stat(vectors); err != nil {
				t.Skipf("skipping: signing vectors not found at ../shared/vectors beside the "+
					"module root; set %s (%v)", EnvDir, err)
			}
			return vectors
		}
		if filepath.Dir(dir) == dir {
			t.Skipf("skipping: no go.mod above the test directory; set %s", EnvDir)
		}
	}
}

// DocExample is the presigned GET of the AWS S3 documentation, as the
// vectors README describes it.
type DocExample struct {
	AccessKey, Secret, URL, Region, Signature string
	Time                                      time.Time
	Expires                                   time.Duration
}

// ReadDocExample reads the documentation example from the vectors README.
func ReadDocExample(t testing.TB) DocExample {
	t.Helper()

	raw, err := os.ReadFile(filepath.Join(Dir(t), "README.md"))
	if err != nil {
		t.Skipf("skipping: read the vectors README: %v", err)
	}
	text := strings.Join(strings.Fields(string(raw)), " ")
	find := func(pattern string) string {
		m := regexp.MustCompile(pattern).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("vectors README: no match for %s", pattern)
		}
		return m[1]
	}

	ex := DocExample{
		AccessKey: find("access key `([A-Z0-9]+)`"),
		Secret:    find("secret `([^`]+)`"),
		URL:       find("GET `(https://[^`]+)`"),
		Region:    find("Z`, ([a-z]{2}-[a-z]+-[0-9]), [0-9]+ seconds"),
		Signature: find("expected signature `([0-9a-f]{64})`"),
	}
	if ex.Time, err = time.Parse("20060102T150405Z", find("`([0-9]{8}T[0-9]{6}Z)`")); err != nil {
		t.Fatalf("vectors README: signing time: %v", err)
	}
	secs, err := strconv.Atoi(find(", ([0-9]+) seconds"))
	if err != nil {
		t.Fatalf("vectors README: expiry: %v", err)
	}
	ex.Expires = time.Duration(secs) * time.Second
	return ex
}
