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
	"github.com/mediasign/mediasign/customsigner"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/metrics"
	"github.com/mediasign/mediasign/provider/local"
	s3provider "github.com/mediasign/mediasign/provider/s3"
	"github.com/mediasign/mediasign/service"
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

	// Exporter writes export files; Exports runs export jobs and keeps
	// their files. serve recovers interrupted jobs with Exports.Recover.
	Exporter *export.Exporter
	Exports  *export.Manager

	// redis is the shared URL cache tier, when one is configured.
	redis *urlcache.RedisTier
}

// Open opens the state and builds the service. The caller closes the App.
func Open(ctx context.Context, cfg config.Config, clock mediasign.Clock, logger *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
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
	a.Metrics.WatchDB(st.DB())
	if err := a.openCache(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	a.Service = service.New(service.Options{Store: st, Drivers: a.drivers(), Cache: a.Cache,
		Clock: clock, Logger: logger.With("component", "service"), Metrics: a.Metrics,
		Signers: a.signers()})

	if err := a.Service.CheckPolicy(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.openExports(ctx); err != nil {
		a.Close()
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

// signers returns the registry of custom URL signer clients, with their
// metrics in the process's registry.
func (a *App) signers() *customsigner.Registry {
	return customsigner.NewRegistry(customsigner.Options{Clock: a.Clock,
		Logger:  a.Logger.With("component", "customsigner"),
		Metrics: customsigner.NewMetrics(a.Metrics.Registry)})
}

// FilesHandler serves the URLs of local connections.
func (a *App) FilesHandler() http.Handler {
	return local.NewHandler(a.Store.Connection, a.Keyring, a.Clock,
		a.Logger.With("component", "files"))
}

// Close stops the running exports and releases the state and the shared
// cache.
func (a *App) Close() error {
	if a.Exports != nil {
		a.Exports.Close()
	}
	if a.redis != nil {
		a.redis.Close()
	}
	return a.Store.Close()
}
