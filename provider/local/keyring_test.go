package local_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/provider/local"
)

func TestOpenKeyringCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "local-signing-keys.json")

	kr, err := local.OpenKeyring(path)
	if err != nil {
		t.Fatalf("OpenKeyring: %v", err)
	}
	if kr.Path() != path || len(kr.Keys()) != 1 {
		t.Fatalf("new keyring at %s has %d keys, want one at %s", kr.Path(), len(kr.Keys()), path)
	}

	wantMode(t, path, 0o600)
	wantMode(t, dir, fs.ModeDir|0o700)
	wantNoTempFiles(t, dir)

	again, err := local.OpenKeyring(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if again.Active().ID != kr.Active().ID {
		t.Fatalf("reopened keyring has key %q, want %q", again.Active().ID, kr.Active().ID)
	}
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode() & (fs.ModeDir | fs.ModePerm); got != want {
		t.Fatalf("%s has mode %v, want %v", path, got, want)
	}
}

func wantNoTempFiles(t *testing.T, dir string) {
	t.Helper()

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "local-signing-keys.json" {
			t.Fatalf("%s holds a stray file %q", dir, e.Name())
		}
	}
}

// keyringJSON returns a keyring file with one key per id.
func keyringJSON(version int, secretLen int, ids ...string) string {
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, secretLen))
	var keys []string
	for _, id := range ids {
		keys = append(keys, fmt.Sprintf(`{"id":%q,"secret":%q,"created_at":"2024-01-01T00:00:00Z"}`,
			id, secret))
	}
	return fmt.Sprintf(`{"version":%d,"keys":[%s]}`, version, strings.Join(keys, ","))
}

func TestOpenKeyringRefusesBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		wantErr string
	}{
		{"empty file", "", 0o600, "corrupt"},
		{"not json", "secret=hunter2\n", 0o600, "corrupt"},
		{"truncated", keyringJSON(1, 32, "k1")[:40], 0o600, "corrupt"},
		{"wrong version", keyringJSON(2, 32, "k1"), 0o600, "unsupported version 2"},
		{"no version", `{"keys":[]}`, 0o600, "unsupported version 0"},
		{"no keys", keyringJSON(1, 32), 0o600, "no keys"},
		{"short secret", keyringJSON(1, 16, "k1"), 0o600, "has 16 bytes"},
		{"empty id", keyringJSON(1, 32, ""), 0o600, "is not 1 to 64 characters"},
		{"id with slash", keyringJSON(1, 32, "a/b"), 0o600, "is not 1 to 64 characters"},
		{"long id", keyringJSON(1, 32, strings.Repeat("k", 65)), 0o600,
			"is not 1 to 64 characters"},
		{"duplicate id", keyringJSON(1, 32, "k1", "k2", "k1"), 0o600, "appears twice"},
		{"secret not base64", `{"version":1,"keys":[{"id":"k1","secret":"!!"}]}`, 0o600,
			"corrupt"},
		{"group readable", keyringJSON(1, 32, "k1"), 0o640, "chmod 600"},
		{"world readable", keyringJSON(1, 32, "k1"), 0o644, "chmod 600"},
		{"group writable", keyringJSON(1, 32, "k1"), 0o620, "chmod 600"},
		{"world writable", keyringJSON(1, 32, "k1"), 0o602, "chmod 600"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "local-signing-keys.json")
			writeKeyringFile(t, path, tt.content, tt.mode)

			_, err := local.OpenKeyring(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) ||
				!strings.Contains(err.Error(), path) {
				t.Fatalf("OpenKeyring = %v, want an error naming %s and saying %q",
					err, path, tt.wantErr)
			}
			wantUnchanged(t, path, tt.content, tt.mode)
		})
	}
}

func writeKeyringFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()

	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode passes through the umask.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func wantUnchanged(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()

	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("keyring file is gone: %v", err)
	}
	if string(got) != content {
		t.Fatalf("keyring file was rewritten: %q, want %q", got, content)
	}
	wantMode(t, path, mode)
	wantNoTempFiles(t, filepath.Dir(path))
}

func TestOpenKeyringAcceptsGoodFiles(t *testing.T) {
	for _, mode := range []fs.FileMode{0o600, 0o400} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "local-signing-keys.json")
			writeKeyringFile(t, path, keyringJSON(1, 32, "old-key", "new_key"), mode)

			kr, err := local.OpenKeyring(path)
			if err != nil {
				t.Fatalf("OpenKeyring: %v", err)
			}
			if got := keyIDs(kr); len(got) != 2 || got[0] != "old-key" || kr.Active().ID != "new_key" {
				t.Fatalf("keys %v, active %q; want [old-key new_key], active new_key",
					got, kr.Active().ID)
			}
		})
	}
}

func TestOpenKeyringRefusesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local-signing-keys.json")
	mustMkdir(t, path)
	if _, err := local.OpenKeyring(path); err == nil ||
		!strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("OpenKeyring of a directory = %v, want a not-a-regular-file error", err)
	}
}

func TestRotateRewritesAtomically(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local-signing-keys.json")
	writeKeyringFile(t, path, keyringJSON(1, 32, "k1"), 0o400)
	kr, err := local.OpenKeyring(path)
	if err != nil {
		t.Fatal(err)
	}

	// A second name of the old file shows whether Rotate replaced the file
	// (rename) or wrote into it (which readers could see half done).
	oldLink := path + ".old"
	if err := os.Link(path, oldLink); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	id, err := kr.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if old, _ := os.ReadFile(oldLink); !bytes.Equal(old, before) {
		t.Fatalf("Rotate wrote into the old file instead of replacing it")
	}
	os.Remove(oldLink)
	wantMode(t, path, 0o600)
	wantNoTempFiles(t, filepath.Dir(path))

	reopened, err := local.OpenKeyring(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if got := keyIDs(reopened); len(got) != 2 || got[0] != "k1" || got[1] != id {
		t.Fatalf("reopened keys %v, want [k1 %s]", got, id)
	}
}

func TestRotateKeepsOtherProcessKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local-signing-keys.json")
	a, err := local.OpenKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := local.OpenKeyring(path)
	if err != nil {
		t.Fatal(err)
	}

	idA, err := a.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	idB, err := b.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if got := keyIDs(b); len(got) != 3 || got[1] != idA || got[2] != idB {
		t.Fatalf("keys %v, want the first key, %s and %s", got, idA, idB)
	}
}

func TestRotateAndRemoveRefuseCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local-signing-keys.json")
	kr, err := local.OpenKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	first := kr.Active().ID
	if _, err := kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	const garbage = "{not json"
	writeKeyringFile(t, path, garbage, 0o600)

	if _, err := kr.Rotate(); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Rotate over a corrupt file = %v, want a corrupt-keyring error", err)
	}
	if err := kr.Remove(first); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Remove over a corrupt file = %v, want a corrupt-keyring error", err)
	}
	wantUnchanged(t, path, garbage, 0o600)
	if len(kr.Keys()) != 2 {
		t.Fatalf("a failed Rotate changed the keys in memory: %v", keyIDs(kr))
	}
}

func TestRemoveRefuses(t *testing.T) {
	kr, err := local.OpenKeyring(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	only := kr.Active().ID
	if err := kr.Remove(only); errorCode(err) != mediasign.CodeInvalid {
		t.Fatalf("Remove of the only key = %v, want an invalid-argument error", err)
	}
	if _, err := kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := kr.Remove(kr.Active().ID); errorCode(err) != mediasign.CodeInvalid {
		t.Fatalf("Remove of the active key = %v, want an invalid-argument error", err)
	}
	if err := kr.Remove("no-such-key"); errorCode(err) != mediasign.CodeNotFound {
		t.Fatalf("Remove of an unknown key = %v, want a not-found error", err)
	}
	if err := kr.Remove(only); err != nil {
		t.Fatalf("Remove of an old key: %v", err)
	}
}

// TestRotateWhileServing rotates and removes keys while URLs are signed and
// served, for the race detector.
func TestRotateWhileServing(t *testing.T) {
	fx := newFixture(t)
	fx.file(t, "a.jpg", "jpeg bytes")

	var wg sync.WaitGroup
	done := make(chan struct{})
	defer func() {
		close(done)
		wg.Wait()
	}()
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				u, err := fx.storage.SignURL(t.Context(), mediasign.SignRequest{Key: "a.jpg",
					Method: mediasign.MethodGet, Expires: time.Hour})
				if err != nil {
					t.Errorf("SignURL: %v", err)
					return
				}
				// The key may be removed between signing and serving.
				resp, body := fx.get(t, u.URL)
				if resp.StatusCode != 200 && resp.StatusCode != 403 {
					t.Errorf("status %d, body %q", resp.StatusCode, body)
					return
				}
			}
		})
	}

	for range 20 {
		old := fx.keyring.Active().ID
		if _, err := fx.keyring.Rotate(); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if err := fx.keyring.Remove(old); err != nil {
			t.Fatalf("Remove: %v", err)
		}
	}
}
