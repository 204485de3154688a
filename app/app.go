// Package app wires mediasign's parts together from a Config, in one
// visible place.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/metrics"
	"github.com/mediasign/mediasign/provider/local"
	s3provider "github.com/mediasign/mediasign/provider/s3"
	"github.com/mediasign/mediasign/service"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

// App holds the parts of one mediasign process.
type App struct {
	Config  config.Config
	Store   mediasign.Store
	Keyring *local.Keyring
	Cache   *urlcache.Cache
	Service *service.Service
	Metrics *metrics.Metrics
	Clock   mediasign.Clock
	Logger  *slog.Logger
}

// Open opens the state and builds the service. The caller closes the App.
func Open(ctx context.Context, cfg config.Config, clock mediasign.Clock, logger *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, cfg.SQLitePath())
	if err != nil {
		return nil, err
	}

	kr, err := local.OpenKeyring(filepath.Join(cfg.DataDir, "local-signing-keys.json"))
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open local signing keys: %w", err)
	}

	a := &App{Config: cfg, Store: st, Keyring: kr, Metrics: metrics.New(), Clock: clock,
		Logger: logger}
	a.Cache = urlcache.New(urlcache.Options{Policy: cfg.Policy, Store: st, Clock: clock,
		Logger: logger.With("component", "urlcache"), MemoryEntries: cfg.MemoryCacheEntries,
		Metrics: a.Metrics})
	a.Service = service.New(service.Options{Store: st, Drivers: a.drivers(), Cache: a.Cache,
		Clock: clock, Logger: logger.With("component", "service"), Metrics: a.Metrics})

	if err := a.Service.CheckPolicy(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// drivers returns the storage drivers, configured for this process.
func (a *App) drivers() service.Drivers {
	httpClient := &http.Client{Timeout: 30 * time.Second}
	return service.Drivers{
		mediasign.ProviderS3: {
			Validate: func(c *mediasign.Connection) error {
				if c.S3 == nil {
					return mediasign.Invalidf("s3 connection %q has no s3 settings", c.Name)
				}
				return s3provider.ValidateConfig(c.S3)
			},
			Open: func(c *mediasign.Connection) (mediasign.Storage, error) {
				return s3provider.New(c, s3provider.Options{Clock: a.Clock, HTTPClient: httpClient,
					Logger: a.Logger.With("component", "s3")})
			},
		},
		mediasign.ProviderLocal: {
			Validate: func(c *mediasign.Connection) error {
				if c.Local == nil {
					return mediasign.Invalidf("local connection %q has no root directory", c.Name)
				}
				return local.ValidateConfig(c.Local)
			},
			Open: func(c *mediasign.Connection) (mediasign.Storage, error) {
				return local.New(c, local.Options{BaseURL: a.Config.PublicURL, Keyring: a.Keyring,
					Clock: a.Clock})
			},
		},
	}
}

// FilesHandler serves the URLs of local connections.
func (a *App) FilesHandler() http.Handler {
	return local.NewHandler(a.Store.Connection, a.Keyring, a.Clock,
		a.Logger.With("component", "files"))
}

// Close releases the state.
func (a *App) Close() error { return a.Store.Close() }
