package export_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediasign/mediasign/export"
)

// killMedia is how many media files the killed export has: enough that it
// writes for about a second.
const killMedia = 400_000

// TestKilledExportLeavesNoCompleteFile runs `mediasign export` as a built
// binary, kills it with SIGKILL while it writes, and checks that nothing
// under the output name exists and that what is left cannot pass for an
// export; then the same command runs to the end.
func TestKilledExportLeavesNoCompleteFile(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds the binary and exports 400,000 media files")
	}
	bin := buildBinary(t)
	data, outDir := t.TempDir(), t.TempDir()
	out := filepath.Join(outDir, "big.jsonl")
	runBinary(t, bin, "connection", "add", "--data-dir", data, "--access-key-id",
		"AKIAKILLTEST00000001", "--endpoint", "http://127.0.0.1:9", "--path-style", "archive")
	runBinary(t, bin, "dev", "seed", "--data-dir", data, "--connection", "archive", "--bucket",
		"media", "--project", "vision", "--dataset", "big", "--count", strconv.Itoa(killMedia))
	args := []string{"export", "--data-dir", data, "--project", "vision", "--dataset", "big",
		"--output", out}

	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	killWhileWriting(t, cmd, outDir)

	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("after SIGKILL, %s exists (%v)", out, err)
	}
	checkLeftovers(t, outDir)

	runBinary(t, bin, args...)
	checkBigExport(t, out)
}

// killWhileWriting waits until the temporary file holds a few MiB, then
// kills the process, and fails if it had finished already.
func killWhileWriting(t *testing.T, cmd *exec.Cmd, dir string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if tempSize(t, dir) > 4<<20 {
			must(t, cmd.Process.Signal(syscall.SIGKILL))
			err := cmd.Wait()
			status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ok || !status.Signaled() {
				t.Fatalf("export ended with %v before it was killed: make killMedia larger", err)
			}
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatal("the export wrote no temporary file within 2 minutes")
}

func tempSize(t *testing.T, dir string) int64 {
	entries, err := os.ReadDir(dir)
	must(t, err)
	var size int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".tmp") {
			size = max(size, info.Size())
		}
	}
	return size
}

// checkLeftovers accepts only hidden temporary files whose header is still
// blank: no reader takes them for an export.
func checkLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, ".big.jsonl.") || !strings.HasSuffix(name, ".tmp") {
			t.Errorf("after SIGKILL the directory holds %q, which is not a hidden temporary file", name)
			continue
		}
		f, err := os.Open(filepath.Join(dir, name))
		must(t, err)
		first, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if strings.TrimSpace(first) != "" {
			t.Errorf("the temporary file %s starts with %.80q, want a blank header", name, first)
		}
	}
}

// checkBigExport reads the header and every hundredth entry of the rerun's
// file, and counts its lines.
func checkBigExport(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)

	lines := 0
	var h struct {
		Header *export.Header `json:"header"`
	}
	for sc.Scan() {
		lines++
		switch {
		case lines == 1:
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Header == nil {
				t.Fatalf("first line is not the header: %v", err)
			}
		case lines%100 == 0:
			var e export.Entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.URL == "" {
				t.Fatalf("line %d is not an entry with a URL: %v", lines, err)
			}
		}
	}
	must(t, sc.Err())
	if lines != killMedia+1 || h.Header.Count != killMedia {
		t.Fatalf("rerun wrote %d lines with count %d, want the header and %d entries",
			lines, h.Header.Count, killMedia)
	}
}

// buildBinary builds cmd/mediasign for the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mediasign")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/mediasign").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs the binary to the end and fails the test if it fails.
func runBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), "MEDIASIGN_S3_SECRET_ACCESS_KEY=kill-test-secret-key-000000000000")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mediasign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// cleanEnv is the environment without mediasign's own settings, so a
// developer's shell cannot change the outcome.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MEDIASIGN_") || strings.HasPrefix(kv, "SIGNED_URL_CACHE_") ||
			strings.HasPrefix(kv, "OAUTH2_") || strings.HasPrefix(kv, "USE_OAUTH2=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
