package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/httpapi"
	"github.com/mediasign/mediasign/urlcache"
)

// purgeEvery is how often cached URLs that can no longer be served are
// deleted.
const purgeEvery = 10 * time.Minute

type serveFlags struct {
	state    stateFlags
	listen   string
	mediaDir string
	minValid string
	newValid string
}

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "serve", "serve [flags]",
		"Runs the HTTP service. With --media-dir it also registers that directory as a\n"+
			"local connection, imports it into a dataset and shows it at the service's page.")
	var f serveFlags
	f.state.register(fs)
	fs.StringVar(&f.listen, "listen", "", "address to listen on (env "+config.EnvListen+
		", default "+config.DefaultListen+")")
	fs.StringVar(&f.mediaDir, "media-dir", "", "serve the media files of this directory")
	fs.StringVar(&f.minValid, "min-valid-seconds", "", "override "+urlcache.EnvMinimumValid)
	fs.StringVar(&f.newValid, "new-valid-seconds", "", "override "+urlcache.EnvNewValid)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := needArgs(fs, 0, "no arguments"); err != nil {
		return err
	}

	cfg, err := f.config(env)
	if err != nil {
		return err
	}
	logger := newLogger(env.Stderr, cfg)
	a, err := app.Open(ctx, cfg, env.Clock, logger)
	if err != nil {
		return err
	}
	defer a.Close()

	return serve(ctx, env, a, f.mediaDir)
}

// config loads the environment and applies the flags on top of it.
func (f *serveFlags) config(env Env) (config.Config, error) {
	cfg, err := f.state.loadConfig(env)
	if err != nil {
		return cfg, err
	}
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.minValid != "" {
		if cfg.Policy.MinValid, err = urlcache.ParseSeconds("--min-valid-seconds", f.minValid); err != nil {
			return cfg, err
		}
	}
	if f.newValid != "" {
		if cfg.Policy.NewValid, err = urlcache.ParseSeconds("--new-valid-seconds", f.newValid); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func serve(ctx context.Context, env Env, a *app.App, mediaDir string) error {
	au, err := setupAuth(ctx, a)
	if err != nil {
		return err
	}
	if err := firstAdmin(ctx, env, a, au); err != nil {
		return err
	}

	if mediaDir != "" {
		if err := serveMediaDir(ctx, env, a, mediaDir); err != nil {
			return err
		}
	}
	if err := a.Exports.Recover(ctx); err != nil {
		return fmt.Errorf("recover export jobs: %w", err)
	}

	ln, err := net.Listen("tcp", a.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (set --listen or %s to a free address): %w",
			a.Config.Listen, config.EnvListen, err)
	}
	srv := &http.Server{
		Handler: httpapi.New(httpapi.Options{Service: a.Service, Auth: au,
			Files: a.FilesHandler(), Clock: a.Clock, Logger: a.Logger, Metrics: a.Metrics,
			Version: Version, Checks: readyChecks(a), RequestTimeout: a.Config.RequestTimeout,
			Exports: a.Exports}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}

	go purgeLoop(ctx, a)
	go a.Exports.Sweep(ctx)
	a.Logger.Info("serving", "listen", ln.Addr().String(), "public_url", a.Config.PublicURL)
	fmt.Fprintf(env.Stdout, "mediasign is serving at %s/\n", a.Config.PublicURL)
	return runServer(ctx, srv, ln)
}

// runServer serves until ctx ends, then drains requests for a few seconds.
func runServer(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}

	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

// readyChecks are the dependencies readiness reports besides the database:
// Redis, when configured, which the service can do without.
func readyChecks(a *app.App) []httpapi.ReadyCheck {
	if a.Config.Redis.URL == "" {
		return nil
	}
	return []httpapi.ReadyCheck{{Name: "redis", Optional: true,
		Check: func(ctx context.Context) error {
			_, err := a.Cache.CheckShared(ctx)
			return err
		}}}
}

func purgeLoop(ctx context.Context, a *app.App) {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		if n, err := a.Cache.Purge(ctx); err != nil {
			a.Logger.Warn("purge url cache", "error", err)
		} else if n > 0 {
			a.Logger.Info("purged url cache", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
