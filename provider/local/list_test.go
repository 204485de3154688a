package local_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// listTree holds the files of the listing tests. Keys are chosen so that a
// walk in plain name order would not give byte order ("a-b.png" and "a.png"
// sort before the directory "a", "a0.png" after it).
var listTree = []string{
	"b.txt",
	"a.png",
	"a-b.png",
	"a0.png",
	"A.txt",
	"a/b.png",
	"a/c/d.png",
	"a/c/e f.png",
	"a/c.png",
	"ab/x.png",
	"z/deep/er/file.mp4",
	"日本/写真.jpg",
}

// hiddenTree holds files that List skips with everything under them.
var hiddenTree = []string{
	".env",
	".hidden/x.png",
	"a/.git/config",
	"a/.thumb.png",
	"back\\slash.png",
	"dir\\name/x.png",
}

// newListFixture lays out listTree and hiddenTree and the entries that are
// not regular files. It returns the fixture and the keys List must yield.
func newListFixture(t *testing.T) (*fixture, map[string]int64) {
	t.Helper()

	fx := newFixture(t)
	want := map[string]int64{}
	for _, key := range listTree {
		content := "content of " + key
		fx.file(t, key, content)
		want[key] = int64(len(content))
	}
	for _, key := range hiddenTree {
		fx.file(t, key, "hidden")
	}

	mustMkdir(t, filepath.Join(fx.root, "empty", "dir"))
	symlink(t, "a.png", filepath.Join(fx.root, "link.png"))
	want["link.png"] = want["a.png"]
	symlink(t, "a", filepath.Join(fx.root, "linkdir"))
	symlink(t, "../secret.txt", filepath.Join(fx.root, "escape.txt"))
	symlink(t, filepath.Join(fx.parent, "secret.txt"), filepath.Join(fx.root, "absolute.txt"))
	symlink(t, "nowhere", filepath.Join(fx.root, "dangling.png"))
	symlink(t, "loop-b", filepath.Join(fx.root, "loop-a"))
	symlink(t, "loop-a", filepath.Join(fx.root, "loop-b"))
	return fx, want
}

// collect lists prefix and returns the keys in the order given and the
// sizes by key.
func collect(t *testing.T, fx *fixture, prefix string) ([]string, map[string]int64) {
	t.Helper()

	var keys []string
	sizes := map[string]int64{}
	err := fx.storage.List(t.Context(), "", prefix, func(page []mediasign.Object) error {
		for _, o := range page {
			keys = append(keys, o.Key)
			sizes[o.Key] = o.Size
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys, sizes
}

func TestListTree(t *testing.T) {
	fx, want := newListFixture(t)
	keys, sizes := collect(t, fx, "")

	if !slices.IsSorted(keys) {
		t.Errorf("keys are not in byte order: %q", keys)
	}
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("keys\n %q\nwant\n %q", keys, wantKeys)
	}
	for k, size := range want {
		if sizes[k] != size {
			t.Errorf("size of %q is %d, want %d", k, sizes[k], size)
		}
	}
}

// TestListedKeysServe signs and serves every listed key: List yields only
// keys that a URL can serve.
func TestListedKeysServe(t *testing.T) {
	fx, _ := newListFixture(t)
	keys, sizes := collect(t, fx, "")

	for _, key := range keys {
		resp, body := fx.get(t, fx.sign(t, key, time.Hour).URL)
		wantStatus(t, resp, body, http.StatusOK)
		if int64(len(body)) != sizes[key] {
			t.Errorf("%q served %d bytes, listed as %d", key, len(body), sizes[key])
		}
	}
}

func TestListPrefix(t *testing.T) {
	fx, want := newListFixture(t)
	for _, prefix := range []string{"", "a", "a/", "a/c", "a/c/", "a/c/d", "a-", "ab",
		"A", "b", "z/deep/", "日本/", "zzz", ".hidden", ".", "a/.git", "link"} {
		t.Run(prefix, func(t *testing.T) {
			keys, _ := collect(t, fx, prefix)

			var wantKeys []string
			for k := range want {
				if strings.HasPrefix(k, prefix) {
					wantKeys = append(wantKeys, k)
				}
			}
			slices.Sort(wantKeys)
			if !slices.Equal(keys, wantKeys) {
				t.Fatalf("List(%q) = %q, want %q", prefix, keys, wantKeys)
			}
		})
	}
}

// newPagedFixture holds 2002 files under "p/": "p/0000.png" to
// "p/2000.png" and "p/1.png", which sorts among the keys that start with
// "p/1".
func newPagedFixture(t *testing.T) *fixture {
	t.Helper()

	fx := newFixture(t)
	dir := filepath.Join(fx.root, "p")
	mustMkdir(t, dir)
	for i := range 2001 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("%04d.png", i)), "x")
	}
	writeFile(t, filepath.Join(dir, "1.png"), "x")
	return fx
}

func TestListPages(t *testing.T) {
	fx := newPagedFixture(t)
	tests := []struct {
		prefix    string
		wantPages []int
	}{
		{"", []int{1000, 1000, 2}},
		{"p/", []int{1000, 1000, 2}},
		{"p/0", []int{1000}},
		{"p/1", []int{1000, 1}},
		{"p/2", []int{1}},
		{"p/00", []int{100}},
		{"p/0999", []int{1}},
		{"q", nil},
	}

	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			var sizes []int
			var keys []string
			err := fx.storage.List(t.Context(), "", tt.prefix, func(page []mediasign.Object) error {
				sizes = append(sizes, len(page))
				for _, o := range page {
					keys = append(keys, o.Key)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !slices.Equal(sizes, tt.wantPages) {
				t.Fatalf("page sizes %v, want %v", sizes, tt.wantPages)
			}
			if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
				t.Fatalf("keys are not distinct and in byte order")
			}
		})
	}

	t.Run("pages are kept", func(t *testing.T) {
		var pages [][]mediasign.Object
		err := fx.storage.List(t.Context(), "", "", func(page []mediasign.Object) error {
			pages = append(pages, page)
			return nil
		})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(pages) != 3 || pages[0][0].Key != "p/0000.png" || pages[1][0].Key != "p/1.png" ||
			pages[2][1].Key != "p/2000.png" {
			t.Fatalf("pages kept by the callback were changed afterwards")
		}
	})
	t.Run("callback error", func(t *testing.T) {
		stop := errors.New("stop here")
		calls := 0
		err := fx.storage.List(t.Context(), "", "", func([]mediasign.Object) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("List = %v after %d calls, want the callback's error after 1", err, calls)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		err := fx.storage.List(ctx, "", "", func([]mediasign.Object) error {
			calls++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Fatalf("List = %v after %d calls, want context.Canceled after 1", err, calls)
		}
	})
}

func TestListRefuses(t *testing.T) {
	t.Run("bucket", func(t *testing.T) {
		fx := newFixture(t)
		err := fx.storage.List(t.Context(), "photos", "", func([]mediasign.Object) error {
			return nil
		})
		if errorCode(err) != mediasign.CodeInvalid {
			t.Fatalf("List with a bucket = %v, want an invalid-argument error", err)
		}
	})
	t.Run("root gone", func(t *testing.T) {
		fx := newFixture(t)
		if err := os.RemoveAll(fx.root); err != nil {
			t.Fatal(err)
		}
		err := fx.storage.List(t.Context(), "", "", func([]mediasign.Object) error {
			return nil
		})
		if errorCode(err) != mediasign.CodeUnavailable ||
			!strings.Contains(mediasign.PublicMessage(err), fx.root) {
			t.Fatalf("List of a removed root = %v, want an unavailable error naming it", err)
		}
	})
}
