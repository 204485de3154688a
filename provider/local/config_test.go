package local_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/provider/local"
)

func TestValidateConfig(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "media")
	mustMkdir(t, dir)
	file := filepath.Join(parent, "file.txt")
	writeFile(t, file, "not a directory")
	symlink(t, "media", filepath.Join(parent, "media-link"))

	tests := []struct {
		name     string
		cfg      *mediasign.LocalConfig
		wantRoot string
		wantErr  string
	}{
		{"directory", &mediasign.LocalConfig{Root: dir}, dir, ""},
		{"unclean path", &mediasign.LocalConfig{Root: parent + "/x/../media/"}, dir, ""},
		{"link to a directory", &mediasign.LocalConfig{Root: filepath.Join(parent, "media-link")},
			filepath.Join(parent, "media-link"), ""},
		{"nil", nil, "", "needs a root directory"},
		{"empty", &mediasign.LocalConfig{}, "", "needs a root directory"},
		{"relative", &mediasign.LocalConfig{Root: "media"}, "", "not an absolute path"},
		{"dot relative", &mediasign.LocalConfig{Root: "./media"}, "", "not an absolute path"},
		{"parent relative", &mediasign.LocalConfig{Root: "../media"}, "", "not an absolute path"},
		{"missing", &mediasign.LocalConfig{Root: filepath.Join(parent, "missing")}, "",
			"does not exist"},
		{"file", &mediasign.LocalConfig{Root: file}, "", "is not a directory"},
		{"file system root", &mediasign.LocalConfig{Root: "/"}, "", "file system root"},
		{"file system root unclean", &mediasign.LocalConfig{Root: "/srv/.."}, "",
			"file system root"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := local.ValidateConfig(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateConfig: %v", err)
				}
				if tt.cfg.Root != tt.wantRoot {
					t.Fatalf("root %q, want %q", tt.cfg.Root, tt.wantRoot)
				}
				return
			}

			if errorCode(err) != mediasign.CodeInvalid {
				t.Fatalf("ValidateConfig = %v, want an invalid-argument error", err)
			}
			if msg := mediasign.PublicMessage(err); !strings.Contains(msg, tt.wantErr) {
				t.Fatalf("message %q, want it to say %q", msg, tt.wantErr)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	kr, err := local.OpenKeyring(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	good := local.Options{BaseURL: testBaseURL, Keyring: kr}

	tests := []struct {
		name string
		conn *mediasign.Connection
		opts local.Options
	}{
		{"nil connection", nil, good},
		{"s3 connection", &mediasign.Connection{ID: 1, Provider: mediasign.ProviderS3,
			S3: &mediasign.S3Config{}}, good},
		{"no local settings", &mediasign.Connection{ID: 1, Provider: mediasign.ProviderLocal}, good},
		{"relative root", localConn(1, "media"), good},
		{"no keyring", localConn(1, dir), local.Options{BaseURL: testBaseURL}},
		{"no base URL", localConn(1, dir), local.Options{Keyring: kr}},
		{"base URL without scheme", localConn(1, dir),
			local.Options{BaseURL: "127.0.0.1:8080", Keyring: kr}},
		{"ftp base URL", localConn(1, dir), local.Options{BaseURL: "ftp://h", Keyring: kr}},
		{"base URL with query", localConn(1, dir),
			local.Options{BaseURL: "http://h/?a=1", Keyring: kr}},
		{"base URL with user", localConn(1, dir),
			local.Options{BaseURL: "http://u:p@h", Keyring: kr}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := local.New(tt.conn, tt.opts); err == nil {
				t.Fatalf("New = %v, want an error", s)
			}
		})
	}
}

func TestSignURLRefuses(t *testing.T) {
	fx := newFixture(t)
	good := mediasign.SignRequest{Key: "a.jpg", Method: mediasign.MethodGet, Expires: time.Hour}

	tests := []struct {
		name string
		edit func(*mediasign.SignRequest)
	}{
		{"put", func(r *mediasign.SignRequest) { r.Method = mediasign.MethodPut }},
		{"no method", func(r *mediasign.SignRequest) { r.Method = "" }},
		{"delete", func(r *mediasign.SignRequest) { r.Method = "DELETE" }},
		{"bucket", func(r *mediasign.SignRequest) { r.Bucket = "photos" }},
		{"no expiry", func(r *mediasign.SignRequest) { r.Expires = 0 }},
		{"negative expiry", func(r *mediasign.SignRequest) { r.Expires = -time.Hour }},
		{"under a second", func(r *mediasign.SignRequest) { r.Expires = 999 * time.Millisecond }},
		{"over the maximum", func(r *mediasign.SignRequest) { r.Expires = local.MaxExpiry + time.Second }},
		{"response type", func(r *mediasign.SignRequest) { r.ResponseContentType = "image/png" }},
		{"response disposition", func(r *mediasign.SignRequest) {
			r.ResponseContentDisposition = "attachment"
		}},
	}
	for _, key := range []string{"", "/etc/passwd", "/a.jpg", "a/", "a//b", ".", "..",
		"../secret.txt", "a/../../secret.txt", "a/./b", "./a", ".hidden", "a/.hidden",
		"..a", "...", "nul\x00.jpg", "back\\slash.jpg", "..\\secret.txt",
		"C:\\Windows\\win.ini", strings.Repeat("k", 4097)} {
		tests = append(tests, struct {
			name string
			edit func(*mediasign.SignRequest)
		}{"key " + key, func(r *mediasign.SignRequest) { r.Key = key }})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := good
			tt.edit(&req)
			u, err := fx.storage.SignURL(t.Context(), req)
			if errorCode(err) != mediasign.CodeInvalid {
				t.Fatalf("SignURL = %q, %v; want an invalid-argument error", u.URL, err)
			}
			if mediasign.PublicMessage(err) == "" {
				t.Fatalf("error %v has no public message", err)
			}
		})
	}
}

func TestSignURLLimits(t *testing.T) {
	fx := newFixture(t)
	if got := fx.storage.MaxExpiry(); got != 366*24*time.Hour {
		t.Fatalf("MaxExpiry = %v, want 366 days", got)
	}

	for _, d := range []time.Duration{time.Second, 1500 * time.Millisecond, local.MaxExpiry} {
		u := fx.sign(t, "a.jpg", d)
		want := startTime.Truncate(time.Second).Add(d.Truncate(time.Second))
		if !u.ExpiresAt.Equal(want) {
			t.Errorf("Expires %v: ExpiresAt %v, want %v", d, u.ExpiresAt, want)
		}
	}
	if key := strings.Repeat("k", 4096); len(fx.sign(t, key, time.Hour).URL) < 4096 {
		t.Errorf("a key of 4096 bytes gave a short URL")
	}
}

func TestCheck(t *testing.T) {
	fx := newFixture(t)
	if err := fx.storage.Check(t.Context(), ""); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := fx.storage.Check(t.Context(), "photos"); errorCode(err) != mediasign.CodeInvalid {
		t.Fatalf("Check with a bucket = %v, want an invalid-argument error", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := fx.storage.Check(ctx, ""); err == nil {
		t.Fatalf("Check with a cancelled context = nil, want an error")
	}

	file := filepath.Join(fx.parent, "secret.txt")
	s := fx.newStorage(t, localConn(localConnID, file), testBaseURL)
	if err := s.Check(t.Context(), ""); errorCode(err) != mediasign.CodeUnavailable ||
		!strings.Contains(mediasign.PublicMessage(err), "not a directory") {
		t.Fatalf("Check of a file = %v, want an unavailable error", err)
	}
	s = fx.newStorage(t, localConn(localConnID, filepath.Join(fx.parent, "gone")), testBaseURL)
	if err := s.Check(t.Context(), ""); errorCode(err) != mediasign.CodeUnavailable {
		t.Fatalf("Check of a missing root = %v, want an unavailable error", err)
	}
}
