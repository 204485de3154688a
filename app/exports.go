package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/export"
	s3provider "github.com/mediasign/mediasign/provider/s3"
)

// openExports builds the exporter and the manager of export jobs, whose
// files are written in DATA_DIR/exports and, when an export connection is
// set, kept in its bucket. Replicas that share a PostgreSQL state fail
// only the exports whose heartbeat stopped.
func (a *App) openExports(ctx context.Context) error {
	a.Exporter = export.New(export.Options{Store: a.Store, Service: a.Service,
		PublicURL: a.Config.PublicURL, Clock: a.Clock,
		Logger: a.Logger.With("component", "export")})

	remote, err := a.exportRemote(ctx)
	if err != nil {
		return err
	}
	shared := a.Config.Backend() == config.BackendPostgres
	if shared && remote == nil {
		a.Logger.WarnContext(ctx, "export files stay on the replica that wrote them: "+
			"set the export connection so that every replica serves them",
			"setting", config.EnvExportConnection)
	}

	m, err := export.NewManager(export.ManagerOptions{Exporter: a.Exporter, Store: a.Store,
		Dir: filepath.Join(a.Config.DataDir, "exports"), Clock: a.Clock,
		Logger: a.Logger.With("component", "export"), Shared: shared, Remote: remote})
	if err != nil {
		return err
	}
	a.Exports = m
	return nil
}

// exportRemote returns where finished export files are kept, or nil when no
// export connection is set. The connection must exist and be an s3 one.
func (a *App) exportRemote(ctx context.Context) (*export.Remote, error) {
	cfg := a.Config.ExportStorage
	if !cfg.Enabled() {
		return nil, nil
	}
	if _, err := a.exportStorage(ctx, cfg.Connection); err != nil {
		return nil, err
	}
	return &export.Remote{Bucket: cfg.Bucket, Prefix: cfg.Prefix,
		Open: func(ctx context.Context) (export.ObjectStore, error) {
			return a.exportStorage(ctx, cfg.Connection)
		}}, nil
}

// exportStorage opens the s3 connection named name, read afresh so that
// changed credentials apply. Its HTTP client sets no overall timeout: an
// upload of a large file takes as long as it takes.
func (a *App) exportStorage(ctx context.Context, name string) (*s3provider.Storage, error) {
	c, err := a.Store.ConnectionByName(ctx, name)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return nil, mediasign.Invalidf("%s=%q names no connection: create an s3 connection "+
			"with that name, or set the name of an existing one", config.EnvExportConnection, name)
	}
	if err != nil {
		return nil, fmt.Errorf("load export connection %q: %w", name, err)
	}
	if c.Provider != mediasign.ProviderS3 {
		return nil, mediasign.Invalidf("%s=%q names a %s connection: export files need an "+
			"s3 connection", config.EnvExportConnection, name, c.Provider)
	}
	return s3provider.New(c, s3provider.Options{Clock: a.Clock,
		Logger: a.Logger.With("component", "export-storage")})
}
