//go:build unix

package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/provider/local"
)

// childRootEnv names the root that a copy of the test binary lists, as an
// unprivileged user, instead of running tests.
const childRootEnv = "MEDIASIGN_LOCAL_TEST_LIST_ROOT"

// nobody is the user id the unreadable-directory test lists as when it runs
// as root, for whom every directory is readable.
const nobody = 65534

func TestMain(m *testing.M) {
	if root := os.Getenv(childRootEnv); root != "" {
		listAsChild(root)
		return
	}
	os.Exit(m.Run())
}

// listResult is what a listing as another user found.
type listResult struct {
	Keys    []string       `json:"keys"`
	Code    mediasign.Code `json:"code"`
	Message string         `json:"message"`
}

// listAsChild lists root and prints a listResult as JSON.
func listAsChild(root string) {
	res := listRoot(filepath.Join(filepath.Dir(root), "data", "keys.json"), root)
	json.NewEncoder(os.Stdout).Encode(res)
}

func listRoot(keyringPath, root string) listResult {
	kr, err := local.OpenKeyring(keyringPath)
	if err != nil {
		return listResult{Code: mediasign.CodeInternal, Message: err.Error()}
	}
	s, err := local.New(localConn(1, root), local.Options{BaseURL: testBaseURL, Keyring: kr})
	if err != nil {
		return listResult{Code: mediasign.CodeInternal, Message: err.Error()}
	}

	var res listResult
	err = s.List(context.Background(), "", "", func(page []mediasign.Object) error {
		for _, o := range page {
			res.Keys = append(res.Keys, o.Key)
		}
		return nil
	})
	if err != nil {
		res.Code, res.Message = mediasign.ErrorCode(err), mediasign.PublicMessage(err)
	}
	return res
}

func TestListUnreadableDirectory(t *testing.T) {
	dir := sharedTempDir(t)
	root := filepath.Join(dir, "media")
	for _, key := range []string{"a.png", "locked/b.png", "z.png"} {
		path := filepath.Join(root, key)
		mustMkdir(t, filepath.Dir(path))
		writeFile(t, path, "x")
	}
	// A file without read permission is listed: listing needs only its size.
	writeFile(t, filepath.Join(root, "no-read.png"), "x")
	chmod(t, filepath.Join(root, "no-read.png"), 0)
	chmod(t, filepath.Join(root, "locked"), 0)
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755) })

	var res listResult
	if os.Geteuid() == 0 {
		res = listAsNobody(t, dir, root)
	} else {
		res = listRoot(filepath.Join(dir, "data", "keys.json"), root)
	}

	if res.Code != mediasign.CodeUnavailable {
		t.Fatalf("listing with an unreadable directory = %+v, want an unavailable error", res)
	}
	for _, want := range []string{`"locked"`, root, "cannot be read", "permissions"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("message %q, want it to contain %q", res.Message, want)
		}
	}

	// With the directory readable again the listing is whole.
	chmod(t, filepath.Join(root, "locked"), 0o755)
	if os.Geteuid() == 0 {
		res = listAsNobody(t, dir, root)
	} else {
		res = listRoot(filepath.Join(dir, "data", "keys.json"), root)
	}
	want := []string{"a.png", "locked/b.png", "no-read.png", "z.png"}
	if res.Code != "" || strings.Join(res.Keys, ",") != strings.Join(want, ",") {
		t.Fatalf("listing = %+v, want keys %q", res, want)
	}
}

// sharedTempDir returns a temporary directory that another user can enter,
// with a subdirectory "data" that another user can write.
func sharedTempDir(t *testing.T) string {
	t.Helper()

	dir, err := os.MkdirTemp("", "local-list-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	chmod(t, dir, 0o755)
	mustMkdir(t, filepath.Join(dir, "data"))
	chmod(t, filepath.Join(dir, "data"), 0o777)
	return dir
}

// listAsNobody runs a copy of the test binary as user nobody to list root.
func listAsNobody(t *testing.T, dir, root string) listResult {
	t.Helper()

	bin := filepath.Join(dir, "local.test")
	if _, err := os.Stat(bin); err != nil {
		copyExecutable(t, bin)
	}

	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), childRootEnv+"="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: nobody, Gid: nobody, NoSetGroups: true},
	}
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		t.Fatalf("listing as user %d: %v: %s", nobody, err, exitErr.Stderr)
	}
	if err != nil {
		t.Skipf("cannot run the test binary as user %d, which the unreadable-directory "+
			"test needs when run as root: %v", nobody, err)
	}

	var res listResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	return res
}

func copyExecutable(t *testing.T, dst string) {
	t.Helper()

	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()

	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestSpecialFiles checks that a FIFO and a socket are neither listed nor
// served, and that serving one does not block.
func TestSpecialFiles(t *testing.T) {
	fx := newFixture(t)
	fx.file(t, "a.png", "png bytes")
	if err := syscall.Mkfifo(filepath.Join(fx.root, "fifo.png"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	sock := filepath.Join(fx.root, "sock.png")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		t.Fatalf("bind %s: %v", sock, err)
	}
	symlink(t, "fifo.png", filepath.Join(fx.root, "fifo-link.png"))

	keys, _ := collect(t, fx, "")
	if strings.Join(keys, ",") != "a.png" {
		t.Fatalf("listed %q, want only a.png", keys)
	}

	for _, key := range []string{"fifo.png", "sock.png", "fifo-link.png"} {
		t.Run(key, func(t *testing.T) {
			done := make(chan *http.Response, 1)
			u := fx.sign(t, key, time.Hour).URL
			go func() { done <- fx.do(t, http.MethodGet, u, nil) }()

			select {
			case resp := <-done:
				body := readBody(t, resp)
				wantStatus(t, resp, body, http.StatusNotFound)
			case <-time.After(10 * time.Second):
				t.Fatalf("serving %s blocked", key)
			}
		})
	}
}
