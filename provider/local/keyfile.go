package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// createKeyring writes a new keyring with one random key at path. When
// another process creates the file first, its keyring is loaded instead.
func createKeyring(path string) ([]Key, error) {
	key, err := newKey(nil)
	if err != nil {
		return nil, err
	}
	keys := []Key{key}

	data, err := encodeKeyring(keys)
	if err != nil {
		return nil, err
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keyring directory %s: %w", dir, err)
	}

	tmp, err := writeTemp(path, data)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)

	// A hard link, unlike a rename, never replaces a file that appeared in
	// the meantime.
	err = os.Link(tmp, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// Some file systems have no hard links; create the file exclusively
		// instead, which is not atomic but never replaces a file either.
		err = writeExclusive(path, data)
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		return readKeyring(path)
	case err != nil:
		return nil, fmt.Errorf("create keyring %s: %w", path, err)
	}

	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("create keyring %s: %w", path, err)
	}
	return keys, nil
}

// writeKeyring replaces the keyring file at path atomically.
func writeKeyring(path string, keys []Key) error {
	data, err := encodeKeyring(keys)
	if err != nil {
		return err
	}

	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}

	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write keyring %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write keyring %s: %w", path, err)
	}
	return nil
}

// writeTemp writes data to a new file with mode 0600 beside path, syncs it
// and returns its name.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write keyring %s: %w", path, err)
	}
	name := f.Name()

	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}

	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write keyring %s: %w", path, err)
	}
	return name, nil
}

// writeExclusive creates path with mode 0600, failing when it exists, and
// writes and syncs data to it.
func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}

	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// syncDir flushes the directory entry of a renamed file to disk.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}

	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	defer d.Close()

	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}
