package app

import (
	"path/filepath"

	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/export"
)

// openExports builds the exporter and the manager of export jobs, whose
// files live in DATA_DIR/exports. Replicas that share a PostgreSQL state
// fail only the exports whose heartbeat stopped.
func (a *App) openExports() error {
	a.Exporter = export.New(export.Options{Store: a.Store, Service: a.Service,
		PublicURL: a.Config.PublicURL, Clock: a.Clock,
		Logger: a.Logger.With("component", "export")})

	m, err := export.NewManager(export.ManagerOptions{Exporter: a.Exporter, Store: a.Store,
		Dir: filepath.Join(a.Config.DataDir, "exports"), Clock: a.Clock,
		Logger: a.Logger.With("component", "export"),
		Shared: a.Config.Backend() == config.BackendPostgres})
	if err != nil {
		return err
	}
	a.Exports = m
	return nil
}
