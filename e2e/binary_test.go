package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mediasign/mediasign/internal/testenv/s3server"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/mediasign once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "mediasign-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "mediasign")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/mediasign").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a running mediasign serve.
type process struct {
	URL string

	// Password is the first admin's password, when this start printed it.
	Password string

	// client keeps the session cookie of a login.
	client *http.Client

	cmd    *exec.Cmd
	stdout *logBuffer
	stderr *logBuffer
	done   chan error
}

var passwordPattern = regexp.MustCompile(`sign in as user "admin" with password \(shown once, keep it\): (\S+)`)

// startBinary runs `mediasign serve` with the given arguments and waits
// until it says it is serving.
func startBinary(t *testing.T, dataDir string, env []string, args ...string) *process {
	t.Helper()
	addr := closedPort(t)
	args = append([]string{"serve", "--data-dir", dataDir, "--listen", addr}, args...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &process{URL: "http://" + addr, client: &http.Client{Jar: jar, Timeout: 30 * time.Second},
		cmd: cmd, stdout: &logBuffer{}, stderr: &logBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	ready := make(chan struct{})
	go p.readStdout(pipe, ready)
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })

	select {
	case <-ready:
	case err := <-p.done:
		t.Fatalf("mediasign exited before serving: %v\nstdout: %s\nstderr: %s", err, p.stdout, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("mediasign did not start in 60s\nstdout: %s\nstderr: %s", p.stdout, p.stderr)
	}
	if m := passwordPattern.FindStringSubmatch(p.stdout.String()); m != nil {
		p.Password = m[1]
	}
	return p
}

func (p *process) readStdout(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	signalled := false
	for sc.Scan() {
		p.stdout.Write(append(sc.Bytes(), '\n'))
		if !signalled && strings.Contains(sc.Text(), "mediasign is serving at") {
			close(ready)
			signalled = true
		}
	}
}

// stop sends SIGINT and waits for a clean exit.
func (p *process) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("mediasign exited with %v after SIGINT\nstderr: %s", err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("mediasign did not stop within 20s of SIGINT")
	}
}

// cleanEnv is the test's environment without mediasign's own settings, so a
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

func (p *process) get(t *testing.T, path string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", p.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: decode: %v", path, err)
		}
	}
	return resp.StatusCode
}

// TestServeMediaDir is the README's first command: serve a directory of real
// images and fetch every one through its signed URL.
func TestServeMediaDir(t *testing.T) {
	dir := filepath.Join(runtime.GOROOT(), "src", "image", "testdata")
	images := testImages(t)
	data := t.TempDir()

	p := startBinary(t, data, nil, "--media-dir", dir)
	if p.Password == "" {
		t.Fatalf("first start printed no admin password:\n%s", p.stdout)
	}
	if code := p.get(t, "/readyz", nil); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	if code := p.get(t, "/api/v1/datasets/1/media", nil); code != 401 {
		t.Fatalf("media listing before login = %d, want 401", code)
	}
	p.login(t, "admin", p.Password, 200)

	var info struct {
		Media []struct {
			ID  int64  `json:"id"`
			Key string `json:"key"`
		} `json:"media"`
	}
	p.get(t, "/api/v1/datasets/1/media?limit=1000", &info)
	if len(info.Media) < len(images) {
		t.Fatalf("dataset holds %d media, want at least the %d images", len(info.Media), len(images))
	}

	for _, m := range info.Media {
		want, err := os.ReadFile(filepath.Join(dir, m.Key))
		if err != nil {
			t.Fatal(err)
		}
		var a urlAnswer
		if code := p.get(t, pathf("/api/v1/media/%d/url", m.ID), &a); code != 200 {
			t.Fatalf("URL of %q: status %d", m.Key, code)
		}
		code, body := fetch(t, a.URL)
		if code != 200 || !bytes.Equal(body, want) {
			t.Errorf("%q: GET signed URL = %d with %d bytes, want 200 with %d", m.Key, code, len(body), len(want))
		}
	}

	checkRange(t, p, info.Media[0].ID)
	checkCookieRedirect(t, p, info.Media[0].ID)
	p.stop(t)

	again := startBinary(t, data, nil, "--media-dir", dir)
	if again.Password != "" {
		t.Errorf("second start printed a new admin password")
	}
	again.client = p.client
	if code := again.get(t, "/api/v1/media/1/url", nil); code != 200 {
		t.Errorf("session after restart: status %d, want 200", code)
	}
	if !strings.Contains(again.stdout.String(), "(0 new)") {
		t.Errorf("restart re-imported the directory:\n%s", again.stdout)
	}
	again.stop(t)

	checkPasswordReset(t, data, p)
}

// login signs in through the API and keeps the session cookie.
func (p *process) login(t *testing.T, user, password string, want int) {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)
	resp, err := p.client.Post(p.URL+"/api/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("login as %q = %d, want %d", user, resp.StatusCode, want)
	}
}

// checkCookieRedirect follows /m/{id} as an <img> tag on the logged-in page
// would: with the session cookie only.
func checkCookieRedirect(t *testing.T, p *process, id int64) {
	t.Helper()
	resp, err := p.client.Get(p.URL + pathf("/m/%d", id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Errorf("GET /m/%d with the session cookie = %d with %d bytes, want the image",
			id, resp.StatusCode, len(body))
	}
}

// checkPasswordReset is the README's recovery: 'mediasign user passwd admin'
// prints a new password and ends the sessions the old one opened.
func checkPasswordReset(t *testing.T, data string, old *process) {
	t.Helper()
	cmd := exec.Command(binary(t), "user", "passwd", "--data-dir", data, "admin")
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("user passwd: %v", err)
	}
	m := regexp.MustCompile(`password \(shown once, keep it\): (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("user passwd printed no password:\n%s", out)
	}

	p := startBinary(t, data, nil)
	p.client.Jar = old.client.Jar
	if code := p.get(t, "/api/v1/media/1/url", nil); code != 401 {
		t.Errorf("session from before the reset: status %d, want 401", code)
	}
	p.login(t, "admin", old.Password, 401)
	p.login(t, "admin", string(m[1]), 200)
	if code := p.get(t, "/api/v1/media/1/url", nil); code != 200 {
		t.Errorf("after login with the new password: status %d, want 200", code)
	}
}

func checkRange(t *testing.T, p *process, id int64) {
	t.Helper()
	var a urlAnswer
	p.get(t, pathf("/api/v1/media/%d/url", id), &a)
	req, _ := http.NewRequest("GET", a.URL, nil)
	req.Header.Set("Range", "bytes=0-9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusPartialContent || len(body) != 10 {
		t.Errorf("Range bytes=0-9: %d with %d bytes, want 206 with 10", resp.StatusCode, len(body))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
		t.Errorf("Content-Type = %q, want an image type", ct)
	}
}

// TestServeRefusesBadPolicy checks the start-up checks of the cache policy.
func TestServeRefusesBadPolicy(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want []string
	}{
		{"days spelling", []string{"SIGNED_URL_CACHE_MINIMUM_DAYS_VALID=5"},
			[]string{"SIGNED_URL_CACHE_MINIMUM_DAYS_VALID", "SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID"}},
		{"M not below N", []string{"SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID=21600",
			"SIGNED_URL_CACHE_NEW_OFFSET_SECONDS_VALID=18000"},
			[]string{"SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID", "21600",
				"SIGNED_URL_CACHE_NEW_OFFSET_SECONDS_VALID", "18000"}},
		{"not seconds", []string{"SIGNED_URL_CACHE_NEW_OFFSET_SECONDS_VALID=6d"},
			[]string{"SIGNED_URL_CACHE_NEW_OFFSET_SECONDS_VALID", "6d"}},
		{"every problem at once", []string{"MEDIASIGN_LOG_LEVEL=verbose", "MEDIASIGN_MEMORY_CACHE_ENTRIES=abc",
			"SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID=x"},
			[]string{"MEDIASIGN_LOG_LEVEL", "MEDIASIGN_MEMORY_CACHE_ENTRIES", "SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(binary(t), "serve", "--data-dir", t.TempDir(), "--listen", closedPort(t))
			cmd.Env = append(cleanEnv(), c.env...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("serve started with %v", c.env)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("error does not name %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestCLISignS3 adds an S3 connection with the CLI, signs a key with an
// awkward name and fetches it from the real S3 server.
func TestCLISignS3(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, "media-test")
	// Keys the catalog cannot hold on this test server (its disk folds "//"
	// and "/./"), signed straight from the command line.
	keys := []string{"pkgs/libstdc++ (1)#?.txt", "2024//clip.txt", "a/./b/c.txt", "/leading.txt"}
	for _, key := range keys {
		srv.Put(t, "media-test", key, []byte("bytes of "+key), "text/plain")
	}
	data := t.TempDir()

	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary(t), args...)
		cmd.Env = append(cleanEnv(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("mediasign %v: %v\n%s", args, err, stderr.String())
		}
		return strings.TrimSpace(stdout.String())
	}

	run([]string{"MEDIASIGN_S3_SECRET_ACCESS_KEY=" + srv.Secret}, "connection", "add",
		"--data-dir", data, "--access-key-id", srv.AccessKey, "--region", srv.Region,
		"--endpoint", srv.Endpoint, "--path-style", "minio")
	for _, key := range keys {
		signed := run(nil, "sign", "--data-dir", data, "--connection", "minio", "--expires", "10m",
			"s3://media-test/"+key)
		code, got := fetch(t, signed)
		if code != 200 || string(got) != "bytes of "+key {
			t.Errorf("key %q: GET %s = %d %q", key, signed, code, got)
		}
	}
	key := keys[0]

	cmd := exec.Command(binary(t), "sign", "--data-dir", data, "--connection", "minio",
		"--expires", "604801", "s3://media-test/"+key)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "604800") {
		t.Fatalf("sign with 604801 s: err %v, output %q; want a refusal naming 604800", err, out)
	}
	if strings.Contains(string(out), srv.Secret) {
		t.Fatalf("error output holds the secret key")
	}
}
