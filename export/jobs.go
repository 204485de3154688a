package export

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediasign/mediasign"
)

// Defaults of a Manager.
const (
	DefaultHeartbeat  = 2 * time.Second
	DefaultMaxRunning = 2

	// staleBeats is how many heartbeats a shared store waits for before it
	// takes an export's process for gone.
	staleBeats = 5
)

// Reasons a job failed without an error of its own.
const (
	reasonStopped = "mediasign stopped while this export was running: start a new export"
	reasonFailed  = "the export failed on the server (its log says why): start a new export, " +
		"and ask an operator if it fails again"
)

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	Exporter *Exporter
	Store    mediasign.Store

	// Dir holds the finished files, one per export, named by its id.
	Dir string

	Clock  mediasign.Clock
	Logger *slog.Logger

	// Shared says that other processes use the same store, as replicas on
	// PostgreSQL do. Start-up then fails only exports whose heartbeat has
	// stopped, and Sweep does so from then on; otherwise start-up fails
	// every export left running.
	Shared bool

	// Heartbeat is how often a running export records its progress;
	// DefaultHeartbeat when zero.
	Heartbeat time.Duration

	// MaxRunning bounds the exports this process runs at once;
	// DefaultMaxRunning when zero.
	MaxRunning int

	// Remote, when set, keeps finished files in a bucket that every
	// replica reaches; the file in Dir is removed once uploaded.
	Remote *Remote
}

// Manager runs export jobs in the background and keeps their files.
type Manager struct {
	opts  ManagerOptions
	owner string

	mu      sync.Mutex
	running map[int64]*job
	closed  bool
	wg      sync.WaitGroup
}

// job is an export this process runs.
type job struct {
	cancel  context.CancelCauseFunc
	written atomic.Int64
	done    chan struct{}
}

var (
	errDeleted = errors.New("export deleted")
	errStopped = errors.New("mediasign stopping")
)

// NewManager returns a Manager whose files live in opts.Dir, which it
// creates readable by its owner only: the files hold signed URLs.
func NewManager(opts ManagerOptions) (*Manager, error) {
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.MaxRunning <= 0 {
		opts.MaxRunning = DefaultMaxRunning
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create export directory: %w", err)
	}
	host, _ := os.Hostname()
	return &Manager{opts: opts, owner: host + "/" + rand.Text()[:12],
		running: make(map[int64]*job)}, nil
}

// Recover fails the exports that a stopped process left running and
// removes the files of unfinished exports. It runs at start-up.
func (m *Manager) Recover(ctx context.Context) error {
	now := m.opts.Clock.Now()
	staleBefore := now.AddDate(100, 0, 0)
	if m.opts.Shared {
		staleBefore = now.Add(-staleBeats * m.opts.Heartbeat)
	}
	ids, err := m.opts.Store.FailStaleExports(ctx, staleBefore, reasonStopped, now)
	if err != nil {
		return fmt.Errorf("fail interrupted exports: %w", err)
	}
	if len(ids) > 0 {
		m.opts.Logger.InfoContext(ctx, "marked interrupted exports failed", "exports", len(ids))
	}
	return m.clean(ctx)
}

// Sweep fails, until ctx ends, the exports of other processes whose
// heartbeat has stopped. It does nothing unless the store is shared.
func (m *Manager) Sweep(ctx context.Context) {
	if !m.opts.Shared {
		return
	}
	t := time.NewTicker(staleBeats * m.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stale := m.opts.Clock.Now().Add(-staleBeats * m.opts.Heartbeat)
		_, err := m.opts.Store.FailStaleExports(ctx, stale, reasonStopped, m.opts.Clock.Now())
		if err != nil {
			m.opts.Logger.WarnContext(ctx, "fail stale exports", "error", err)
		}
	}
}

// clean removes temporary files and the files of exports that are not
// done.
func (m *Manager) clean(ctx context.Context) error {
	entries, err := os.ReadDir(m.opts.Dir)
	if err != nil {
		return fmt.Errorf("read export directory: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || m.keep(ctx, e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(m.opts.Dir, e.Name())); err != nil {
			m.opts.Logger.WarnContext(ctx, "remove unfinished export file", "error", err)
		}
	}
	return nil
}

// keep reports whether a file of the export directory belongs to an
// export that is done or still running.
func (m *Manager) keep(ctx context.Context, name string) bool {
	if strings.HasPrefix(name, ".") {
		return false // a temporary file that no export of this process writes yet
	}
	id, err := strconv.ParseInt(strings.TrimSuffix(name, filepath.Ext(name)), 10, 64)
	if err != nil {
		return true // not ours
	}
	e, err := m.opts.Store.Export(ctx, id)
	return err == nil && e.State != mediasign.ExportFailed
}

// Close stops the exports this process runs and waits for them; they end
// failed.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	for _, j := range m.running {
		j.cancel(errStopped)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// path is where the finished file of e lives.
func (m *Manager) path(e *mediasign.Export) string {
	return filepath.Join(m.opts.Dir, strconv.FormatInt(e.ID, 10)+Extension(e.Format))
}
