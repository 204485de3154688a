package s3server

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStartPutGet(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, want a loopback URL", s.Endpoint)
	}

	s.CreateBucket(t, "harness")
	body := []byte("hello from the harness\n")
	s.Put(t, "harness", "dir/hello.txt", body, "text/plain")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := s.Client().GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String("harness"), Key: aws.String("dir/hello.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if string(got) != string(body) || aws.ToString(out.ContentType) != "text/plain" {
		t.Fatalf("GetObject = %q (%q), want %q (text/plain)", got, aws.ToString(out.ContentType), body)
	}

	if _, err := os.Stat(filepath.Join(s.Root, "harness", "dir", "hello.txt")); err != nil {
		t.Fatalf("object not stored under Root: %v", err)
	}
}

func TestUnsignedRequestRefused(t *testing.T) {
	s := Start(t)
	s.CreateBucket(t, "private")
	s.Put(t, "private", "a.txt", []byte("x"), "")

	resp, err := http.Get(s.Endpoint + "/private/a.txt")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous GET status = %d, want 403", resp.StatusCode)
	}
}

func TestStopKillsServer(t *testing.T) {
	var endpoint string
	t.Run("server", func(t *testing.T) {
		endpoint = Start(t).Endpoint
	})
	if endpoint == "" {
		t.Skip("server did not start")
	}

	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get(endpoint + healthPath)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("server at %s still answers after its test ended", endpoint)
	}
}

func TestBinaryFromEnv(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-versitygw")
	t.Setenv(EnvBinary, missing)
	if _, err := Binary(); err == nil || !strings.Contains(err.Error(), EnvBinary) {
		t.Fatalf("Binary() with a missing %s: err = %v, want one naming the variable", EnvBinary, err)
	}

	present := filepath.Join(t.TempDir(), "versitygw")
	if err := os.WriteFile(present, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvBinary, present)
	if got, err := Binary(); err != nil || got != present {
		t.Fatalf("Binary() = %q, %v; want %q", got, err, present)
	}
}

func TestInstallHint(t *testing.T) {
	hint := installHint("")
	for _, want := range []string{"go install github.com/versity/versitygw/cmd/versitygw@v1.8.0", "GOBIN=", EnvBinary} {
		if !strings.Contains(hint, want) {
			t.Errorf("install hint %q lacks %q", hint, want)
		}
	}
}

func TestTailBufferKeepsTail(t *testing.T) {
	b := &tailBuffer{max: 4}
	for _, s := range []string{"ab", "cd", "ef"} {
		if _, err := b.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.String(); got != "cdef" {
		t.Fatalf("tail = %q, want cdef", got)
	}
}

func TestCleanEnv(t *testing.T) {
	got := cleanEnv([]string{"PATH=p", "VGW_VIRTUAL_DOMAIN=x", "ROOT_ACCESS_KEY=k", "HOME=h"})
	if strings.Join(got, ",") != "PATH=p,HOME=h" {
		t.Fatalf("cleanEnv = %v", got)
	}
}
