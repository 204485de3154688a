package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/mediasign/mediasign"
)

// listPageSize is the number of objects List hands to its callback at once.
const listPageSize = 1000

// List calls fn with the regular files under the root whose keys start with
// prefix, in pages of up to 1000, in byte order of their keys. Keys use "/"
// between segments. Names that no URL can serve (hidden names, which start
// with a dot, and names with a backslash) are skipped with everything under
// them, and so are special files and entries removed during the walk. A
// symbolic link is listed when it points at a regular file inside the root;
// linked directories are not entered. A directory or file that cannot be read
// stops the listing with an unavailable error naming it.
func (s *Storage) List(ctx context.Context, bucket, prefix string,
	fn func([]mediasign.Object) error) error {
	if bucket != "" {
		return mediasign.Invalidf("local connections have no buckets; "+
			"bucket must be empty, got %q", bucket)
	}

	root, err := os.OpenRoot(s.root)
	if err != nil {
		return mediasign.Unavailable(fmt.Sprintf("local root %s cannot be opened", s.root), err)
	}
	defer root.Close()

	w := &walker{ctx: ctx, root: root, rootDir: s.root, prefix: prefix, fn: fn}
	if err := w.walk(""); err != nil {
		return err
	}
	return w.flush()
}

// walker visits a directory tree depth first in key order.
type walker struct {
	ctx     context.Context
	root    *os.Root
	rootDir string
	prefix  string
	fn      func([]mediasign.Object) error
	page    []mediasign.Object
}

// dirEntry is one visible entry of a directory.
type dirEntry struct {
	name  string
	isDir bool
	size  int64
}

// sortName returns the name by which e sorts among its siblings. A directory
// sorts as if its name ended with a slash, which makes a depth-first walk
// yield keys in byte order ("a.png" comes before "a/b.png").
func (e dirEntry) sortName() string {
	if e.isDir {
		return e.name + "/"
	}
	return e.name
}

func (w *walker) walk(dir string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}

	entries, err := w.readDir(dir)
	if err != nil {
		return err
	}

	for _, e := range entries {
		key := joinKey(dir, e.name)
		if e.isDir {
			if mayHoldPrefix(key+"/", w.prefix) {
				if err := w.walk(key); err != nil {
					return err
				}
			}
			continue
		}

		if strings.HasPrefix(key, w.prefix) && len(key) <= maxKeyLen {
			if err := w.add(mediasign.Object{Key: key, Size: e.size}); err != nil {
				return err
			}
		}
	}
	return nil
}

// mayHoldPrefix reports whether a directory whose keys start with dirKey can
// hold keys that start with prefix.
func mayHoldPrefix(dirKey, prefix string) bool {
	return strings.HasPrefix(dirKey, prefix) || strings.HasPrefix(prefix, dirKey)
}

func joinKey(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// readDir returns the visible entries of dir in key order.
func (w *walker) readDir(dir string) ([]dirEntry, error) {
	name := dir
	if name == "" {
		name = "."
	}

	// TODO: Read huge directories in batches; ReadDir(-1) holds every name
	// of one directory in memory at once, which a flat directory of millions
	// of files makes large.
	f, err := w.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, w.unreadable("directory", name, err)
	}
	des, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, w.unreadable("directory", name, err)
	}

	entries := make([]dirEntry, 0, len(des))
	for _, de := range des {
		e, ok, err := w.entry(dir, de)
		if err != nil {
			return nil, err
		}
		if ok {
			entries = append(entries, e)
		}
	}

	slices.SortFunc(entries, func(a, b dirEntry) int {
		return strings.Compare(a.sortName(), b.sortName())
	})
	return entries, nil
}

// entry describes de, or reports false for an entry that is not listed:
// hidden names, special files, links to directories or out of the root, and
// files removed while the directory was read.
func (w *walker) entry(dir string, de fs.DirEntry) (dirEntry, bool, error) {
	name := de.Name()
	if strings.HasPrefix(name, ".") || strings.IndexByte(name, '\\') >= 0 {
		return dirEntry{}, false, nil
	}

	var (
		info fs.FileInfo
		err  error
	)
	switch mode := de.Type(); {
	case mode.IsDir():
		return dirEntry{name: name, isDir: true}, true, nil
	case mode.IsRegular():
		info, err = de.Info()
	case mode&fs.ModeSymlink != 0:
		// The root refuses a link that leads out of it.
		info, err = w.root.Stat(joinKey(dir, name))
		if err != nil {
			return dirEntry{}, false, nil
		}
	default:
		return dirEntry{}, false, nil
	}

	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dirEntry{}, false, nil
	case err != nil:
		return dirEntry{}, false, w.unreadable("file", joinKey(dir, name), err)
	case !info.Mode().IsRegular():
		return dirEntry{}, false, nil
	}
	return dirEntry{name: name, size: info.Size()}, true, nil
}

// unreadable returns the error that stops a listing at an entry that cannot
// be read.
func (w *walker) unreadable(kind, name string, err error) error {
	return mediasign.Unavailable(fmt.Sprintf("%s %q under local root %s cannot be read; "+
		"fix its permissions or move it out of the root", kind, name, w.rootDir),
		fmt.Errorf("list %s %q: %w", kind, name, err))
}

// add appends obj to the current page and hands the page over when full.
func (w *walker) add(obj mediasign.Object) error {
	w.page = append(w.page, obj)
	if len(w.page) < listPageSize {
		return nil
	}
	return w.flush()
}

// flush hands the current page, if any, to the callback.
func (w *walker) flush() error {
	if len(w.page) == 0 {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}

	page := w.page
	w.page = make([]mediasign.Object, 0, listPageSize)
	return w.fn(page)
}
