package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Environment variables of the state database, the shared URL cache and
// request handling, for running several replicas.
const (
	EnvDatabaseMaxConns        = "MEDIASIGN_DATABASE_MAX_CONNS"
	EnvDatabaseMaxIdleConns    = "MEDIASIGN_DATABASE_MAX_IDLE_CONNS"
	EnvDatabaseConnMaxLifetime = "MEDIASIGN_DATABASE_CONN_MAX_LIFETIME_SECONDS"
	EnvRedisURL                = "MEDIASIGN_REDIS_URL"
	EnvRedisKeyPrefix          = "MEDIASIGN_REDIS_KEY_PREFIX"
	EnvRequestTimeout          = "MEDIASIGN_REQUEST_TIMEOUT_SECONDS"

	// DefaultRequestTimeout bounds a request when nothing is set.
	DefaultRequestTimeout = 30 * time.Second

	maxPoolConns   = 1000
	maxRedisPrefix = 128
)

// Database backends, named by the scheme of the database URL.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// DatabasePool sizes the connection pool of a PostgreSQL state database in
// one process.
type DatabasePool struct {
	MaxConns        int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
}

// DefaultDatabasePool returns the pool used when nothing is set.
func DefaultDatabasePool() DatabasePool {
	return DatabasePool{MaxConns: 10, MaxIdleConns: 10, ConnMaxLifetime: 30 * time.Minute}
}

// Redis configures the shared tier of the URL cache.
type Redis struct {
	// URL is redis://, rediss:// or unix://; empty means no shared tier.
	URL string

	// KeyPrefix starts every key mediasign writes; empty means one derived
	// from the installation, so installations sharing a Redis never meet.
	KeyPrefix string
}

// loadScale reads the settings of this file through lookup.
func (c *Config) loadScale(lookup func(string) (string, bool)) error {
	var errs []error
	num := func(name string, dst *int) {
		if v, ok := lookup(name); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not a whole number", name, v))
			}
			*dst = n
		}
	}
	secs := func(name string, dst *time.Duration) {
		if v, ok := lookup(name); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q is not a whole number of seconds above 0",
					name, v))
			}
			*dst = time.Duration(n) * time.Second
		}
	}

	num(EnvDatabaseMaxConns, &c.Pool.MaxConns)
	num(EnvDatabaseMaxIdleConns, &c.Pool.MaxIdleConns)
	secs(EnvDatabaseConnMaxLifetime, &c.Pool.ConnMaxLifetime)
	secs(EnvRequestTimeout, &c.RequestTimeout)
	if v, ok := lookup(EnvRedisURL); ok {
		c.Redis.URL = strings.TrimSpace(v)
	}
	if v, ok := lookup(EnvRedisKeyPrefix); ok {
		c.Redis.KeyPrefix = v
	}
	return errors.Join(errs...)
}

// validateScale checks the settings of this file.
func (c *Config) validateScale() error {
	var errs []error
	if c.Pool.MaxConns < 2 || c.Pool.MaxConns > maxPoolConns {
		errs = append(errs, fmt.Errorf("%s=%d is out of range: give 2 to %d",
			EnvDatabaseMaxConns, c.Pool.MaxConns, maxPoolConns))
	}
	if c.Pool.MaxIdleConns < 1 || c.Pool.MaxIdleConns > c.Pool.MaxConns {
		errs = append(errs, fmt.Errorf("%s=%d is out of range: give 1 to %s (%d)",
			EnvDatabaseMaxIdleConns, c.Pool.MaxIdleConns, EnvDatabaseMaxConns, c.Pool.MaxConns))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s must be above 0", EnvRequestTimeout))
	}
	errs = append(errs, c.validateRedis())
	return errors.Join(errs...)
}

func (c *Config) validateRedis() error {
	if len(c.Redis.KeyPrefix) > maxRedisPrefix {
		return fmt.Errorf("%s is %d bytes long: give at most %d", EnvRedisKeyPrefix,
			len(c.Redis.KeyPrefix), maxRedisPrefix)
	}
	if c.Redis.URL == "" {
		return nil
	}
	// The URL may hold a password: errors never quote it.
	u, err := url.Parse(c.Redis.URL)
	if err != nil || !oneOf(u.Scheme, "redis", "rediss", "unix") {
		return fmt.Errorf("%s is not a redis://HOST:PORT/DB, rediss:// or unix:// URL",
			EnvRedisURL)
	}
	return nil
}

// validateDatabase checks the database URL, and fills in the SQLite file in
// the data directory when none is set.
func (c *Config) validateDatabase() error {
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "mediasign.db")
		return nil
	}
	scheme, rest, _ := strings.Cut(c.DatabaseURL, "://")
	switch scheme {
	case "sqlite":
		if rest == "" {
			return fmt.Errorf("%s=sqlite:// names no file: give sqlite://PATH", EnvDatabaseURL)
		}
		return nil
	case "postgres", "postgresql":
		// The URL may hold a password: errors never quote it.
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			return fmt.Errorf("%s is not a valid URL: give postgres://USER@HOST:PORT/DATABASE",
				EnvDatabaseURL)
		}
		return nil
	}
	return fmt.Errorf("%s has scheme %q: use sqlite://PATH (the default) or "+
		"postgres://USER@HOST:PORT/DATABASE", EnvDatabaseURL, scheme)
}

// Backend names the state backend the database URL selects.
func (c *Config) Backend() string {
	scheme, _, _ := strings.Cut(c.DatabaseURL, "://")
	if scheme == "postgres" || scheme == "postgresql" {
		return BackendPostgres
	}
	return BackendSQLite
}
