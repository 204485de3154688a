package s3

import (
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
)

func TestValidateConfigNormalizes(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"http://minio.local:9000", "http://minio.local:9000"},
		{"https://s3.example.internal:443", "https://s3.example.internal"},
		{"http://h:80", "http://h"},
		{"https://h:80", "https://h:80"},
		{"http://h:443", "http://h:443"},
		{"https://files.example.com/", "https://files.example.com"},
		{"  https://Files.Example.COM  ", "https://files.example.com"},
		{"HTTP://H:0080/", "http://h"},
		{"http://[::1]:9000", "http://[::1]:9000"},
		{"http://[::1]:80", "http://[::1]"},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cfg := caseConfig()
			cfg.Endpoint, cfg.PublicEndpoint = tt.in, tt.in
			if err := ValidateConfig(&cfg); err != nil {
				t.Fatalf("ValidateConfig: %v", err)
			}
			if cfg.Endpoint != tt.want || cfg.PublicEndpoint != tt.want {
				t.Fatalf("endpoint %q -> %q / %q, want %q", tt.in, cfg.Endpoint,
					cfg.PublicEndpoint, tt.want)
			}
		})
	}
}

func TestValidateConfigRefuses(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*mediasign.S3Config)
		wantField string
	}{
		{"no region", func(c *mediasign.S3Config) { c.Region = "" }, "region"},
		{"region with slash", func(c *mediasign.S3Config) { c.Region = "eu/north" }, "region"},
		{"region with space", func(c *mediasign.S3Config) { c.Region = "eu north" }, "region"},
		{"long region", func(c *mediasign.S3Config) { c.Region = strings.Repeat("r", 65) }, "region"},
		{"no access key", func(c *mediasign.S3Config) { c.AccessKeyID = "" }, "access_key_id"},
		{"access key with slash", func(c *mediasign.S3Config) { c.AccessKeyID = "AK/x" },
			"access_key_id"},
		{"no secret", func(c *mediasign.S3Config) { c.SecretAccessKey = "" }, "secret_access_key"},
		{"ftp scheme", func(c *mediasign.S3Config) { c.Endpoint = "ftp://h" }, "endpoint"},
		{"no scheme", func(c *mediasign.S3Config) { c.Endpoint = "minio.local:9000" }, "endpoint"},
		{"host only", func(c *mediasign.S3Config) { c.Endpoint = "minio.local" }, "endpoint"},
		{"path", func(c *mediasign.S3Config) { c.Endpoint = "http://h/bucket" }, "endpoint"},
		{"query", func(c *mediasign.S3Config) { c.Endpoint = "http://h?x=1" }, "endpoint"},
		{"empty query", func(c *mediasign.S3Config) { c.Endpoint = "http://h?" }, "endpoint"},
		{"fragment", func(c *mediasign.S3Config) { c.Endpoint = "http://h#x" }, "endpoint"},
		{"userinfo", func(c *mediasign.S3Config) { c.Endpoint = "http://u:p@h" }, "endpoint"},
		{"bad port", func(c *mediasign.S3Config) { c.Endpoint = "http://h:99999" }, "endpoint"},
		{"empty port", func(c *mediasign.S3Config) { c.Endpoint = "http://h:" }, "endpoint"},
		{"no host", func(c *mediasign.S3Config) { c.Endpoint = "http://:9000" }, "endpoint"},
		{"public path", func(c *mediasign.S3Config) { c.PublicEndpoint = "https://h/media" },
			"public_endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := caseConfig()
			tt.edit(&cfg)
			err := ValidateConfig(&cfg)
			if mediasign.ErrorCode(err) != mediasign.CodeInvalid {
				t.Fatalf("err = %v, want invalid argument", err)
			}
			if msg := mediasign.PublicMessage(err); !strings.HasPrefix(msg, tt.wantField) {
				t.Errorf("message %q does not start with the field %q", msg, tt.wantField)
			}
			if strings.Contains(err.Error(), "u:p") {
				t.Errorf("message %q repeats the user info", err)
			}
		})
	}

	if err := ValidateConfig(nil); mediasign.ErrorCode(err) != mediasign.CodeInvalid {
		t.Errorf("ValidateConfig(nil) = %v, want invalid argument", err)
	}
}
