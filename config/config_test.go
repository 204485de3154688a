package config

import (
	"errors"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadAndValidate(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{name: "defaults"},
		{name: "bad listen", env: map[string]string{EnvListen: "8080"},
			wantErr: []string{EnvListen, "host:port"}},
		{name: "bad public url", env: map[string]string{EnvPublicURL: "media.example.com"},
			wantErr: []string{EnvPublicURL}},
		{name: "short token", env: map[string]string{EnvAdminToken: "secret"},
			wantErr: []string{EnvAdminToken, "at least 24"}},
		{name: "unsupported database", env: map[string]string{EnvDatabaseURL: "mysql://x"},
			wantErr: []string{EnvDatabaseURL, "mysql"}},
		{name: "policy and listen together",
			env: map[string]string{EnvListen: "nope",
				"SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID":    "10",
				"SIGNED_URL_CACHE_NEW_OFFSET_SECONDS_VALID": "5"},
			wantErr: []string{EnvListen, "SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID=10"}},
		{name: "days spelling", env: map[string]string{"SIGNED_URL_CACHE_MINIMUM_DAYS_VALID": "5"},
			wantErr: []string{"SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID"}},
		{name: "port out of range", env: map[string]string{EnvListen: "127.0.0.1:99999"},
			wantErr: []string{EnvListen, "99999", "65535"}},
		{name: "log level", env: map[string]string{EnvLogLevel: "loud"},
			wantErr: []string{EnvLogLevel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			err = errors.Join(err, c.Validate())
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if c.PublicURL != "http://127.0.0.1:8080" || !strings.HasSuffix(c.DatabaseURL, "mediasign.db") {
					t.Fatalf("derived settings: public %q database %q", c.PublicURL, c.DatabaseURL)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPublicURLFromWildcardListen(t *testing.T) {
	for listen, want := range map[string]string{
		":18933":          "http://127.0.0.1:18933",
		"0.0.0.0:8080":    "http://127.0.0.1:8080",
		"[::]:8080":       "http://[::1]:8080",
		"10.1.2.3:8080":   "http://10.1.2.3:8080",
		"media.lan:8080":  "http://media.lan:8080",
		"127.0.0.1:18080": "http://127.0.0.1:18080",
	} {
		c := Default()
		c.Listen = listen
		if err := c.Validate(); err != nil {
			t.Fatalf("listen %q: %v", listen, err)
		}
		if c.PublicURL != want {
			t.Errorf("listen %q: public URL %q, want %q", listen, c.PublicURL, want)
		}
	}
}
