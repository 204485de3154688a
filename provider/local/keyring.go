package local

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediasign/mediasign"
)

const (
	// keySize is the length in bytes of a new signing secret.
	keySize = 32

	// minKeySize is the shortest secret a keyring file may hold.
	minKeySize = 32

	// keyIDBytes is the number of random bytes behind a new key id.
	keyIDBytes = 6

	// keyringVersion is the version of the keyring file format.
	keyringVersion = 1
)

// Key describes one signing key of a keyring. Its secret never leaves the
// package.
type Key struct {
	ID        string
	CreatedAt time.Time
	secret    []byte
}

// Keyring holds the HMAC keys that sign and verify local URLs. The newest key
// signs; every key in the ring verifies, so keys can be rotated without
// breaking URLs already handed out. It is safe for concurrent use.
type Keyring struct {
	path string

	// mu serializes changes; readers use ring without locking.
	mu   sync.Mutex
	ring atomic.Pointer[ringState]

	// lastCheck is when the file was last looked at for changes made by
	// another process, in Unix nanoseconds.
	lastCheck atomic.Int64
}

// checkEvery bounds how often the keyring file is looked at for changes
// made by another process, such as `mediasign key rotate`.
const checkEvery = time.Second

// ringState is an immutable snapshot of the keys, oldest first, with the
// size and modification time of the file they were read from.
type ringState struct {
	keys    []Key
	byID    map[string][]byte
	size    int64
	modTime time.Time
}

// keyringFile is the JSON form of a keyring on disk.
type keyringFile struct {
	Version int       `json:"version"`
	Keys    []keyJSON `json:"keys"`
}

type keyJSON struct {
	ID        string    `json:"id"`
	Secret    []byte    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
}

// OpenKeyring loads the keyring stored at path, creating it with one new
// random key when the file does not exist. A file that cannot be parsed is
// reported and left untouched.
func OpenKeyring(path string) (*Keyring, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve keyring path %s: %w", path, err)
	}

	k := &Keyring{path: abs}
	keys, err := readKeyring(abs)
	if errors.Is(err, fs.ErrNotExist) {
		keys, err = createKeyring(abs)
	}
	if err != nil {
		return nil, err
	}

	if err := k.store(keys); err != nil {
		return nil, err
	}
	return k, nil
}

// store makes keys the ring's keys and remembers the file's state.
func (k *Keyring) store(keys []Key) error {
	info, err := os.Stat(k.path)
	if err != nil {
		return fmt.Errorf("stat keyring %s: %w", k.path, err)
	}
	st := newRingState(keys)
	st.size, st.modTime = info.Size(), info.ModTime()
	k.ring.Store(st)
	return nil
}

// refresh reloads the keyring when another process changed its file, at
// most once per checkEvery. A file that cannot be read keeps the keys in
// memory: a broken file must not stop a running service.
func (k *Keyring) refresh() {
	now := time.Now().UnixNano()
	last := k.lastCheck.Load()
	if now-last < int64(checkEvery) || !k.lastCheck.CompareAndSwap(last, now) {
		return
	}
	info, err := os.Stat(k.path)
	cur := k.ring.Load()
	if err != nil || (info.Size() == cur.size && info.ModTime().Equal(cur.modTime)) {
		return
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	keys, err := readKeyring(k.path)
	if err != nil {
		return
	}
	_ = k.store(keys)
}

// Path returns the absolute path of the keyring file.
func (k *Keyring) Path() string { return k.path }

// Active returns the key that signs new URLs: the newest one.
func (k *Keyring) Active() Key {
	k.refresh()
	keys := k.ring.Load().keys
	return keys[len(keys)-1]
}

// Keys returns every key of the ring, oldest first, without their secrets.
func (k *Keyring) Keys() []Key {
	keys := k.ring.Load().keys
	out := make([]Key, len(keys))
	for i, key := range keys {
		out[i] = Key{ID: key.ID, CreatedAt: key.CreatedAt}
	}
	return out
}

// Rotate adds a new random key and makes it the active one. Keys already in
// the ring keep verifying the URLs they signed.
func (k *Keyring) Rotate() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()

	// The file is read again so that a rotation made by another process
	// in the meantime is kept.
	// TODO: Lock the keyring file across processes; two processes rotating
	// at the same instant can still lose one of the new keys.
	keys, err := readKeyring(k.path)
	if err != nil {
		return "", err
	}

	key, err := newKey(keys)
	if err != nil {
		return "", err
	}
	keys = append(keys, key)

	if err := writeKeyring(k.path, keys); err != nil {
		return "", err
	}
	if err := k.store(keys); err != nil {
		return "", err
	}
	return key.ID, nil
}

// Remove deletes the key with id from the ring, so URLs it signed stop
// verifying. The active key cannot be removed; rotate first.
func (k *Keyring) Remove(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()

	keys, err := readKeyring(k.path)
	if err != nil {
		return err
	}

	i := indexOfKey(keys, id)
	switch {
	case i < 0:
		return mediasign.NotFoundf("keyring %s has no key %q", k.path, id)
	case len(keys) == 1:
		return mediasign.Invalidf("key %q is the only key of keyring %s; "+
			"rotate to add a new key before removing it", id, k.path)
	case i == len(keys)-1:
		return mediasign.Invalidf("key %q is the active key of keyring %s; "+
			"rotate to make another key active before removing it", id, k.path)
	}

	keys = append(keys[:i:i], keys[i+1:]...)
	if err := writeKeyring(k.path, keys); err != nil {
		return err
	}
	return k.store(keys)
}

// active returns the id and secret of the signing key.
func (k *Keyring) active() (string, []byte) {
	key := k.Active()
	return key.ID, key.secret
}

// secret returns the secret of the key with id.
func (k *Keyring) secret(id string) ([]byte, bool) {
	k.refresh()
	s, ok := k.ring.Load().byID[id]
	return s, ok
}

func newRingState(keys []Key) *ringState {
	byID := make(map[string][]byte, len(keys))
	for _, key := range keys {
		byID[key.ID] = key.secret
	}
	return &ringState{keys: keys, byID: byID}
}

func indexOfKey(keys []Key, id string) int {
	for i, key := range keys {
		if key.ID == id {
			return i
		}
	}
	return -1
}

// newKey returns a random key whose id differs from those of keys.
func newKey(keys []Key) (Key, error) {
	for {
		id := make([]byte, keyIDBytes)
		secret := make([]byte, keySize)
		if _, err := rand.Read(id); err != nil {
			return Key{}, fmt.Errorf("generate key id: %w", err)
		}
		if _, err := rand.Read(secret); err != nil {
			return Key{}, fmt.Errorf("generate key secret: %w", err)
		}

		key := Key{
			ID:        base64.RawURLEncoding.EncodeToString(id),
			CreatedAt: time.Now().UTC().Truncate(time.Second),
			secret:    secret,
		}
		// An id that starts like a flag could not be given on a command
		// line, as in `mediasign key remove ID`.
		if key.ID[0] != '-' && key.ID[0] != '_' && indexOfKey(keys, key.ID) < 0 {
			return key, nil
		}
	}
}

// readKeyring loads and checks the keyring file at path.
func readKeyring(path string) ([]Key, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read keyring %s: %w", path, err)
	}
	if err := checkKeyringMode(path, info); err != nil {
		return nil, err
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keyring %s: %w", path, err)
	}

	keys, err := decodeKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("keyring %s is corrupt and was left untouched "+
			"(restore it from a backup, or move it away to start a new keyring, "+
			"which invalidates every local URL already signed): %w", path, err)
	}
	return keys, nil
}

// checkKeyringMode refuses a keyring that users other than its owner can
// read or write.
func checkKeyringMode(path string, info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("keyring %s is not a regular file", path)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("keyring %s has mode %04o, which lets other users see the "+
			"signing keys; run chmod 600 on it", path, perm)
	}
	return nil
}

// decodeKeyring parses the JSON of a keyring file and checks every key.
func decodeKeyring(data []byte) ([]Key, error) {
	var f keyringFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse json: %w", err)
	}
	if f.Version != keyringVersion {
		return nil, fmt.Errorf("unsupported version %d (want %d)", f.Version, keyringVersion)
	}
	if len(f.Keys) == 0 {
		return nil, errors.New("no keys")
	}

	keys := make([]Key, 0, len(f.Keys))
	for i, kj := range f.Keys {
		if err := checkKey(kj, keys); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		keys = append(keys, Key{ID: kj.ID, CreatedAt: kj.CreatedAt, secret: kj.Secret})
	}
	return keys, nil
}

func checkKey(kj keyJSON, before []Key) error {
	switch {
	case !validKeyID(kj.ID):
		return fmt.Errorf("id %q is not 1 to 64 characters of A-Z a-z 0-9 - _", kj.ID)
	case indexOfKey(before, kj.ID) >= 0:
		return fmt.Errorf("id %q appears twice", kj.ID)
	case len(kj.Secret) < minKeySize:
		return fmt.Errorf("secret of %q has %d bytes, want at least %d",
			kj.ID, len(kj.Secret), minKeySize)
	}
	return nil
}

// validKeyID reports whether id can appear in a URL without escaping.
func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

func encodeKeyring(keys []Key) ([]byte, error) {
	f := keyringFile{Version: keyringVersion, Keys: make([]keyJSON, len(keys))}
	for i, key := range keys {
		f.Keys[i] = keyJSON{ID: key.ID, Secret: key.secret, CreatedAt: key.CreatedAt}
	}

	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode keyring: %w", err)
	}
	return append(data, '\n'), nil
}
