package local

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKeyringSeesOtherProcesses checks that a running service picks up keys
// rotated or removed by another process, such as `mediasign key rotate`.
func TestKeyringSeesOtherProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	service, err := OpenKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := OpenKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	first := service.Active().ID

	second, err := cli.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(checkEvery + 100*time.Millisecond)
	if got := service.Active().ID; got != second {
		t.Fatalf("service signs with %s after another process rotated to %s", got, second)
	}
	if _, ok := service.secret(first); !ok {
		t.Fatalf("rotation elsewhere dropped the old key %s", first)
	}

	if err := cli.Remove(first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(checkEvery + 100*time.Millisecond)
	if _, ok := service.secret(first); ok {
		t.Fatalf("service still verifies key %s after another process removed it", first)
	}

	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(checkEvery + 100*time.Millisecond)
	if _, ok := service.secret(second); !ok {
		t.Fatalf("a broken keyring file emptied the running keyring")
	}
}

func TestNewKeyIDsNeverStartLikeAFlag(t *testing.T) {
	for range 2000 {
		k, err := newKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		if k.ID[0] == '-' || k.ID[0] == '_' {
			t.Fatalf("key id %q starts like a flag", k.ID)
		}
	}
}
