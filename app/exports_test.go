package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/config"
)

// TestOpenChecksExportConnection starts mediasign with export settings
// that name a missing connection, a local connection and an s3 one: only
// the s3 one starts, and its manager keeps files in the bucket.
func TestOpenChecksExportConnection(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()

	a, err := app.Open(ctx, cfg, mediasign.SystemClock{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*mediasign.Connection{
		{Name: "photos", Provider: mediasign.ProviderLocal,
			Local: &mediasign.LocalConfig{Root: t.TempDir()}},
		{Name: "archive", Provider: mediasign.ProviderS3, S3: &mediasign.S3Config{
			AccessKeyID: "AKIDEXPORTTEST", SecretAccessKey: "secret", Region: "us-east-1",
			Endpoint: "http://127.0.0.1:9", PathStyle: true}},
	} {
		if err := a.Service.AddConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()

	tests := []struct {
		connection string
		want       []string
	}{
		{"missing", []string{config.EnvExportConnection, `"missing"`, "names no connection"}},
		{"photos", []string{config.EnvExportConnection, `"photos"`, "s3 connection"}},
		{"archive", nil},
	}
	for _, tt := range tests {
		t.Run(tt.connection, func(t *testing.T) {
			c := cfg
			c.ExportStorage = config.ExportStorage{Connection: tt.connection, Bucket: "exports",
				Prefix: config.DefaultExportPrefix}
			a, err := app.Open(ctx, c, mediasign.SystemClock{}, slog.New(slog.DiscardHandler))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Open: %v, want it to start", err)
				}
				a.Close()
				return
			}
			if err == nil {
				a.Close()
				t.Fatalf("Open started, want a refusal naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(mediasign.PublicMessage(err), w) {
					t.Errorf("error %q does not contain %q", mediasign.PublicMessage(err), w)
				}
			}
		})
	}
}
