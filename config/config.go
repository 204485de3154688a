// Package config loads mediasign's settings from the environment, with
// defaults, and validates them as a whole.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign/urlcache"
)

// Environment variables that mediasign reads.
const (
	EnvListen       = "MEDIASIGN_LISTEN"
	EnvDataDir      = "MEDIASIGN_DATA_DIR"
	EnvDatabaseURL  = "MEDIASIGN_DATABASE_URL"
	EnvPublicURL    = "MEDIASIGN_PUBLIC_URL"
	EnvAdminToken   = "MEDIASIGN_ADMIN_TOKEN"
	EnvLogLevel     = "MEDIASIGN_LOG_LEVEL"
	EnvLogFormat    = "MEDIASIGN_LOG_FORMAT"
	EnvMemoryCache  = "MEDIASIGN_MEMORY_CACHE_ENTRIES"
	EnvBehindHTTPS  = "MEDIASIGN_BEHIND_HTTPS"
	EnvSessionTTL   = "MEDIASIGN_SESSION_TTL_SECONDS"
	DefaultListen   = "127.0.0.1:8080"
	DefaultDataDir  = "data"
	minAdminToken   = 24
	maxMemoryCached = 50_000_000
)

// Config holds every setting of a mediasign process.
type Config struct {
	// Listen is the address the HTTP service listens on.
	Listen string

	// DataDir holds the SQLite database and the local signing keys.
	DataDir string

	// DatabaseURL selects the state backend by scheme; empty means the
	// SQLite file in DataDir.
	DatabaseURL string

	// Pool sizes the connection pool of a PostgreSQL database.
	Pool DatabasePool

	// Redis configures the URL cache tier that replicas share.
	Redis Redis

	// RequestTimeout bounds each HTTP request, imports and export downloads
	// excepted.
	RequestTimeout time.Duration

	// PublicURL is how clients reach this service; local URLs point at it.
	PublicURL string

	// AdminToken, when set, is a bearer token of the installation admin,
	// for automation.
	AdminToken string

	// OAuth2 switches sign-in from local users to an OAuth2 provider.
	OAuth2 OAuth2

	// BehindHTTPS marks session cookies Secure on plain HTTP requests, for a
	// service behind a TLS-terminating proxy.
	BehindHTTPS bool

	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header names the client.
	TrustedProxies []netip.Prefix

	// SessionTTL is how long a sign-in lasts in session mode.
	SessionTTL time.Duration

	LogLevel  string
	LogFormat string

	// MemoryCacheEntries bounds the in-process URL cache.
	MemoryCacheEntries int

	// ExportStorage keeps finished export files where every replica
	// reaches them.
	ExportStorage ExportStorage

	Policy urlcache.Policy
}

// Default returns the settings used when nothing is set.
func Default() Config {
	return Config{Listen: DefaultListen, DataDir: DefaultDataDir, LogLevel: "info",
		LogFormat: "text", MemoryCacheEntries: 100_000, Policy: urlcache.DefaultPolicy(),
		SessionTTL: DefaultSessionTTL, Pool: DefaultDatabasePool(),
		RequestTimeout: DefaultRequestTimeout,
		ExportStorage:  ExportStorage{Prefix: DefaultExportPrefix}}
}

// Load reads the settings from the environment through lookup, on top of
// the defaults. It returns every problem at once.
func Load(lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	var errs []error

	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	str(EnvListen, &c.Listen)
	str(EnvDataDir, &c.DataDir)
	str(EnvDatabaseURL, &c.DatabaseURL)
	str(EnvPublicURL, &c.PublicURL)
	str(EnvAdminToken, &c.AdminToken)
	str(EnvLogLevel, &c.LogLevel)
	str(EnvLogFormat, &c.LogFormat)
	if v, ok := lookup(EnvMemoryCache); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not a whole number", EnvMemoryCache, v))
		}
		c.MemoryCacheEntries = n
	}

	errs = append(errs, c.loadAuth(lookup), c.loadScale(lookup))
	c.loadExports(lookup)

	p, err := urlcache.ParsePolicy(lookup)
	errs = append(errs, err)
	c.Policy = p
	return c, errors.Join(errs...)
}

// Validate checks the settings and fills in those derived from others.
func (c *Config) Validate() error {
	var errs []error
	errs = append(errs, c.validateListen())
	if c.DataDir == "" {
		errs = append(errs, fmt.Errorf("%s (or --data-dir) is empty: give a directory", EnvDataDir))
	}
	errs = append(errs, c.validateDatabase(), c.validatePublicURL(), c.validateToken(),
		c.validateAuth(), c.validateScale(), c.validateExports())
	if c.MemoryCacheEntries < 0 || c.MemoryCacheEntries > maxMemoryCached {
		errs = append(errs, fmt.Errorf("%s=%d is out of range: give 0 to %d",
			EnvMemoryCache, c.MemoryCacheEntries, maxMemoryCached))
	}
	if !oneOf(c.LogLevel, "debug", "info", "warn", "error") {
		errs = append(errs, fmt.Errorf("%s=%q: use debug, info, warn or error", EnvLogLevel, c.LogLevel))
	}
	if !oneOf(c.LogFormat, "text", "json") {
		errs = append(errs, fmt.Errorf("%s=%q: use text or json", EnvLogFormat, c.LogFormat))
	}
	errs = append(errs, c.Policy.Validate())
	return errors.Join(errs...)
}

// SQLitePath returns the database file of a sqlite:// database URL.
func (c *Config) SQLitePath() string {
	return strings.TrimPrefix(c.DatabaseURL, "sqlite://")
}

func (c *Config) validateListen() error {
	_, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q (%s or --listen) is not host:port, for example %s",
			c.Listen, EnvListen, DefaultListen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("listen address %q (%s or --listen) has port %q: give 1 to 65535",
			c.Listen, EnvListen, port)
	}
	return nil
}

// reachableAddr turns a listen address into one a client on this machine can
// reach: a wildcard host such as ":8080" or "0.0.0.0:8080" becomes loopback.
// Set the public URL when clients come from elsewhere.
func reachableAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	ip := net.ParseIP(host)
	switch {
	case host == "" || (ip != nil && ip.IsUnspecified() && ip.To4() != nil):
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

func (c *Config) validatePublicURL() error {
	if c.PublicURL == "" {
		c.PublicURL = "http://" + reachableAddr(c.Listen)
		return nil
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%s=%q is not an absolute http(s) URL without query, for example "+
			"https://media.example.com", EnvPublicURL, c.PublicURL)
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	return nil
}

func (c *Config) validateToken() error {
	if c.AdminToken != "" && len(c.AdminToken) < minAdminToken {
		return fmt.Errorf("%s is %d characters long: give at least %d random characters, or "+
			"unset it and sign in as a user", EnvAdminToken, len(c.AdminToken), minAdminToken)
	}
	return nil
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
