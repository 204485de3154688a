package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestScaleSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		backend string
		wantErr []string
		check   func(t *testing.T, c Config)
	}{
		{name: "sqlite by default", backend: BackendSQLite},
		{name: "postgres", backend: BackendPostgres,
			env: map[string]string{EnvDatabaseURL: "postgres://app@db.internal:5432/media"}},
		{name: "postgresql spelling", backend: BackendPostgres,
			env: map[string]string{EnvDatabaseURL: "postgresql://app@db.internal/media"}},
		{name: "pool and timeout", backend: BackendPostgres,
			env: map[string]string{EnvDatabaseURL: "postgres://db/media",
				EnvDatabaseMaxConns: "40", EnvDatabaseMaxIdleConns: "5",
				EnvDatabaseConnMaxLifetime: "600", EnvRequestTimeout: "12",
				EnvRedisURL: "redis://cache:6379/2", EnvRedisKeyPrefix: "media-prod:"},
			check: func(t *testing.T, c Config) {
				want := DatabasePool{MaxConns: 40, MaxIdleConns: 5, ConnMaxLifetime: 10 * time.Minute}
				if c.Pool != want || c.RequestTimeout != 12*time.Second ||
					c.Redis.URL != "redis://cache:6379/2" || c.Redis.KeyPrefix != "media-prod:" {
					t.Fatalf("settings = %+v %s %+v", c.Pool, c.RequestTimeout, c.Redis)
				}
			}},
		{name: "pool too small", env: map[string]string{EnvDatabaseMaxConns: "1"},
			wantErr: []string{EnvDatabaseMaxConns, "2 to"}},
		{name: "idle above max", env: map[string]string{EnvDatabaseMaxIdleConns: "11"},
			wantErr: []string{EnvDatabaseMaxIdleConns, EnvDatabaseMaxConns}},
		{name: "pool not a number", env: map[string]string{EnvDatabaseMaxConns: "many"},
			wantErr: []string{EnvDatabaseMaxConns, "many"}},
		{name: "timeout zero", env: map[string]string{EnvRequestTimeout: "0"},
			wantErr: []string{EnvRequestTimeout}},
		{name: "redis scheme", env: map[string]string{EnvRedisURL: "http://cache:6379"},
			wantErr: []string{EnvRedisURL, "redis://"}},
		{name: "other database", env: map[string]string{EnvDatabaseURL: "mysql://db/media"},
			wantErr: []string{EnvDatabaseURL, `"mysql"`, "postgres://"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			err = errors.Join(err, c.Validate())
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got := c.Backend(); got != tt.backend {
					t.Fatalf("Backend() = %q, want %q", got, tt.backend)
				}
				if tt.check != nil {
					tt.check(t, c)
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

// TestURLErrorsHidePasswords checks that a malformed URL holding a password
// is refused without quoting it.
func TestURLErrorsHidePasswords(t *testing.T) {
	for _, name := range []string{EnvDatabaseURL, EnvRedisURL} {
		scheme := "postgres"
		if name == EnvRedisURL {
			scheme = "redis"
		}
		c, err := Load(env(map[string]string{name: scheme + "://u:s3cret@host:port%zz/x"}))
		err = errors.Join(err, c.Validate())
		if err == nil {
			t.Fatalf("%s: malformed URL accepted", name)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error quotes the password: %v", name, err)
		}
	}
}
