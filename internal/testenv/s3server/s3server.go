// Package s3server starts a real S3 server, Versity S3 Gateway, for tests.
//
// The gateway serves a temporary directory through its posix backend on a
// free loopback port, with random root credentials, and is stopped when the
// test ends. It is a test tool: the product never imports this package.
package s3server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// Version is the Versity S3 Gateway release the harness expects.
const Version = "v1.8.0"

// Environment variables the harness reads.
const (
	// EnvBinary names the versitygw binary to run.
	EnvBinary = "VERSITYGW_BIN"

	// EnvRequire turns a missing binary into a test failure instead of a skip.
	EnvRequire = "MEDIASIGN_REQUIRE_S3"
)

// Region is the region the server answers for.
const Region = "us-east-1"

const (
	startTimeout  = 20 * time.Second
	startAttempts = 3
	healthPath    = "/health"
	maxOutput     = 1 << 20
)

// Server is a running Versity S3 Gateway.
type Server struct {
	// Endpoint is the base URL, http://127.0.0.1:PORT.
	Endpoint  string
	AccessKey string
	Secret    string
	Region    string

	// Root is the directory the posix backend serves; each bucket is a
	// folder in it.
	Root string

	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{}
}

// Start starts a gateway for the test and stops it when the test ends. It
// skips the test when the binary is missing, unless MEDIASIGN_REQUIRE_S3=1.
func Start(t testing.TB) *Server {
	t.Helper()

	bin, err := Binary()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%v (%s=1 requires the S3 server)", err, EnvRequire)
		}
		t.Skipf("skipping: %v", err)
	}

	root := t.TempDir()
	var lastErr error
	for range startAttempts {
		s, err := start(bin, root)
		if err == nil {
			t.Cleanup(func() { s.stop(t) })
			return s
		}
		lastErr = err
	}
	t.Fatalf("start versitygw: %v", lastErr)
	return nil
}

// Binary returns the path of the versitygw binary: $VERSITYGW_BIN, else the
// mediasign-tools cache folder, else PATH. Its error says how to install it.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBinary, p, err)
		}
		return p, nil
	}

	dir, dirErr := cacheDir()
	if dirErr == nil {
		p := filepath.Join(dir, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}

	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}

	return "", errors.New(installHint(dir))
}

// cacheDir returns the folder where the harness looks for versitygw.
func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "mediasign-tools", "versitygw-"+Version), nil
}

func installHint(dir string) string {
	if dir == "" {
		dir = "<user cache dir>/mediasign-tools/versitygw-" + Version
	}
	return fmt.Sprintf("versitygw not found (set %s, put it in PATH, or install it with "+
		"`GOBIN=%s go install github.com/versity/versitygw/cmd/versitygw@%s`)",
		EnvBinary, dir, Version)
}

func start(bin, root string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}

	s := &Server{
		Endpoint:  "http://" + port,
		AccessKey: "VGW" + strings.ToUpper(randomHex(8)),
		Secret:    randomHex(20),
		Region:    Region,
		Root:      root,
		out:       &tailBuffer{max: maxOutput},
		done:      make(chan struct{}),
	}

	// Path-style addressing is the gateway's default; --virtual-domain
	// would turn on virtual-hosted buckets, which 127.0.0.1 cannot serve.
	s.cmd = exec.Command(bin,
		"--access", s.AccessKey, "--secret", s.Secret,
		"--region", s.Region, "--port", port, "--health", healthPath,
		"posix", root)
	s.cmd.Env = cleanEnv(os.Environ())
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReady(); err != nil {
		s.kill()
		return nil, fmt.Errorf("%w; server output:\n%s", err, s.out.String())
	}
	return s, nil
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("release port: %w", err)
	}
	return addr, nil
}

// cleanEnv drops variables that would change how the gateway runs (its own
// VGW_* settings and root keys), so the flags above are the whole config.
func cleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "VGW_") || strings.HasPrefix(name, "ROOT_") ||
			name == "LOGFILE" || name == "WEBHOOK" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (s *Server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("versitygw exited before it was ready")
		default:
		}

		resp, err := client.Get(s.Endpoint + healthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw not ready on %s after %s", s.Endpoint, startTimeout)
}

func (s *Server) stop(t testing.TB) {
	s.kill()
	if t.Failed() {
		t.Logf("versitygw output:\n%s", s.out.String())
	}
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// Output returns what the server has printed so far (the last MiB).
func (s *Server) Output() string { return s.out.String() }

// Client returns an S3 client for the server: path-style, root credentials.
func (s *Server) Client() *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(
			s.AccessKey, s.Secret, ""),
		RetryMaxAttempts:           2,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// CreateBucket creates a bucket or fails the test.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.Client().CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatalf("create bucket %q: %v", name, err)
	}
}

// Put uploads an object or fails the test. An empty contentType sends none.
func (s *Server) Put(t testing.TB, bucket, key string, body []byte, contentType string) {
	t.Helper()

	in := &awss3.PutObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Body:   bytes.NewReader(body),
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().PutObject(ctx, in); err != nil {
		t.Fatalf("put %s/%q: %v", bucket, key, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tailBuffer keeps the last max bytes written to it; it is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
