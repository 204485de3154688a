package export_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/export"
)

// TestCheckOutputRefusesWhatRenameWouldReplace checks the output paths an
// export refuses before any work: renaming the finished file into place would
// replace them.
func TestCheckOutputRefusesWhatRenameWouldReplace(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(regular, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}

	for path, ok := range map[string]bool{
		filepath.Join(dir, "new.jsonl"): true,
		regular:                         true,
		sub:                             false,
		fifo:                            false,
		link:                            false,
	} {
		err := export.CheckOutput(path)
		if ok && err != nil {
			t.Errorf("CheckOutput(%s) = %v, want nil", filepath.Base(path), err)
		}
		if !ok && mediasign.ErrorCode(err) != mediasign.CodeInvalid {
			t.Errorf("CheckOutput(%s) = %v, want an invalid-argument refusal", filepath.Base(path), err)
		}
	}
}
