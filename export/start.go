package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mediasign/mediasign"
)

// StartRequest says what to export.
type StartRequest struct {
	Project *mediasign.Project

	// Datasets names the datasets of the project to export, in order.
	Datasets []string

	// Format is the file format; JSON Lines when empty.
	Format mediasign.ExportFormat
}

// Datasets looks up the named datasets of a project, in order, once each.
func Datasets(ctx context.Context, store mediasign.CatalogStore, p *mediasign.Project,
	names []string) ([]*mediasign.Dataset, error) {
	if len(names) == 0 {
		return nil, mediasign.Invalidf("name at least one dataset of project %q to export", p.Name)
	}
	seen := make(map[string]bool, len(names))
	var out []*mediasign.Dataset
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		d, err := store.DatasetByName(ctx, p.ID, name)
		if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
			return nil, mediasign.NotFoundf("project %q has no dataset %q: check the name",
				p.Name, name)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Start begins an export in the background and returns it, running. The
// caller in ctx is recorded as the one who asked for it.
func (m *Manager) Start(ctx context.Context, req StartRequest) (*mediasign.Export, error) {
	if req.Format == "" {
		req.Format = mediasign.ExportJSONLines
	}
	datasets, err := Datasets(ctx, m.opts.Store, req.Project, req.Datasets)
	if err != nil {
		return nil, err
	}
	plan, err := m.opts.Exporter.Plan(ctx, datasets)
	if err != nil {
		return nil, err
	}

	caller, _ := mediasign.CallerFrom(ctx)
	e := &mediasign.Export{ProjectID: req.Project.ID, Format: req.Format, Total: plan.Total,
		Owner: m.owner, HeartbeatAt: m.opts.Clock.Now(), CreatedBy: caller.UserID}
	for _, d := range datasets {
		e.DatasetIDs = append(e.DatasetIDs, d.ID)
	}

	// The job outlives the request. It carries the caller, credential
	// included, only in memory, for signers that sign per user.
	jobCtx := mediasign.WithCaller(context.WithoutCancel(ctx), caller)
	jobCtx, cancel := context.WithCancelCause(jobCtx)
	j, err := m.admit(ctx, e, cancel)
	if err != nil {
		cancel(err)
		return nil, err
	}
	go m.run(jobCtx, j, e, Request{Project: req.Project, Datasets: datasets, Format: req.Format,
		Path: m.path(e)}, plan)
	return e, nil
}

// admit stores e as running when this process has room for one more
// export.
func (m *Manager) admit(ctx context.Context, e *mediasign.Export,
	cancel context.CancelCauseFunc) (*job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, mediasign.Unavailable("mediasign is stopping: start the export again later", nil)
	}
	if len(m.running) >= m.opts.MaxRunning {
		return nil, mediasign.Conflictf("%d exports are running already: wait for one to "+
			"finish, or delete one, and start this one again", len(m.running))
	}
	if err := m.opts.Store.CreateExport(ctx, e); err != nil {
		return nil, err
	}

	j := &job{cancel: cancel, done: make(chan struct{})}
	m.running[e.ID] = j
	m.wg.Add(1)
	return j, nil
}

// run writes the export and records how it ended.
func (m *Manager) run(ctx context.Context, j *job, e *mediasign.Export, req Request, plan *Plan) {
	defer m.wg.Done()
	defer close(j.done)
	defer m.forget(e.ID)

	stop := m.beat(ctx, j, e.ID)
	req.Progress = func(p Progress) { j.written.Store(p.Written) }
	res, err := m.opts.Exporter.Run(ctx, req, plan)
	stop()

	m.finish(ctx, e, res, err)
}

func (m *Manager) forget(id int64) {
	m.mu.Lock()
	delete(m.running, id)
	m.mu.Unlock()
}

// beat records the progress of a running export until stop is called. An
// export that is gone or no longer running in the store is cancelled.
func (m *Manager) beat(ctx context.Context, j *job, id int64) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(m.opts.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			err := m.opts.Store.UpdateExportProgress(ctx, id, j.written.Load(), m.opts.Clock.Now())
			switch {
			case mediasign.ErrorCode(err) == mediasign.CodeNotFound:
				j.cancel(errDeleted)
				return
			case err != nil && ctx.Err() == nil:
				m.opts.Logger.WarnContext(ctx, "record export progress", "export", id, "error", err)
			}
		}
	}()
	return func() { close(quit); <-done }
}

// finish records the end of an export. A done file is first uploaded when
// a bucket keeps export files; a done file whose export is gone meanwhile
// is removed.
func (m *Manager) finish(ctx context.Context, e *mediasign.Export, res Result, runErr error) {
	end := *e
	end.FinishedAt = m.opts.Clock.Now()
	if runErr == nil && m.opts.Remote != nil {
		end.ObjectKey, runErr = m.upload(ctx, e)
		m.removeFile(ctx, e)
	}
	if runErr == nil {
		end.State, end.Written, end.Resigned = mediasign.ExportDone, res.Count, res.Resigned
		end.MinExpiresAt, end.Size = res.MinExpiresAt, res.Size
	} else {
		end.State, end.Error = mediasign.ExportFailed, m.reason(ctx, e.ID, runErr)
	}

	err := m.opts.Store.FinishExport(context.WithoutCancel(ctx), &end)
	if err == nil {
		m.opts.Logger.InfoContext(ctx, "export ended", "export", e.ID, "state", end.State,
			"entries", end.Written, "resigned", end.Resigned)
		return
	}
	if runErr == nil {
		m.discard(context.WithoutCancel(ctx), &end)
	}
	if mediasign.ErrorCode(err) != mediasign.CodeNotFound {
		m.opts.Logger.ErrorContext(ctx, "record end of export", "export", e.ID, "error", err)
	}
}

// discard removes the file of a done export that could not be recorded.
func (m *Manager) discard(ctx context.Context, e *mediasign.Export) {
	if e.ObjectKey == "" {
		os.Remove(m.path(e))
		return
	}
	_ = m.deleteObject(ctx, e) // logged there
}

// removeFile removes the local file of e, which a bucket now keeps or
// which failed to reach it.
func (m *Manager) removeFile(ctx context.Context, e *mediasign.Export) {
	if err := os.Remove(m.path(e)); err != nil && !errors.Is(err, os.ErrNotExist) {
		m.opts.Logger.WarnContext(ctx, "remove uploaded export file", "export", e.ID,
			"error", err)
	}
}

// reason says in words for the export's users why it failed, and logs the
// detail they do not see.
func (m *Manager) reason(ctx context.Context, id int64, err error) string {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errStopped):
		return reasonStopped
	case errors.Is(cause, errDeleted):
		return "the export was deleted"
	}
	var e *mediasign.Error
	if errors.As(err, &e) && e.Code != mediasign.CodeInternal {
		return e.Message
	}
	m.opts.Logger.ErrorContext(ctx, "export failed", "export", id, "error", err)
	return reasonFailed
}

// Get returns an export of a project.
func (m *Manager) Get(ctx context.Context, projectID, id int64) (*mediasign.Export, error) {
	e, err := m.opts.Store.Export(ctx, id)
	if err == nil && e.ProjectID != projectID {
		err = mediasign.NotFoundf("export %d not found", id)
	}
	if err != nil {
		return nil, err
	}
	if j := m.job(id); j != nil && e.State == mediasign.ExportRunning {
		e.Written = max(e.Written, j.written.Load())
	}
	return e, nil
}

func (m *Manager) job(id int64) *job {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.running[id]
}

// List returns the exports of a project, newest first.
func (m *Manager) List(ctx context.Context, projectID int64) ([]*mediasign.Export, error) {
	es, err := m.opts.Store.ListExports(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if j := m.job(e.ID); j != nil && e.State == mediasign.ExportRunning {
			e.Written = max(e.Written, j.written.Load())
		}
	}
	return es, nil
}

// Open returns where the finished file of an export of a project is: a
// file on this process, which the caller closes, or a signed URL of the
// bucket that keeps it. name is what a browser saves it as.
func (m *Manager) Open(ctx context.Context, projectID, id int64,
	name func(*mediasign.Export) string) (*Download, error) {
	e, err := m.Get(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	if e.State != mediasign.ExportDone {
		return nil, mediasign.Conflictf("export %d is %s: only a done export can be "+
			"downloaded", id, e.State)
	}
	if e.ObjectKey != "" {
		u, err := m.signedURL(ctx, e, name(e))
		if err != nil {
			return nil, err
		}
		return &Download{Export: e, URL: u}, nil
	}

	f, err := os.Open(m.path(e))
	if errors.Is(err, os.ErrNotExist) {
		return nil, m.notHere(id)
	}
	if err != nil {
		return nil, fmt.Errorf("open export file: %w", err)
	}
	return &Download{Export: e, File: f}, nil
}

// notHere explains a done export whose file this process does not have.
func (m *Manager) notHere(id int64) error {
	if m.opts.Shared {
		return mediasign.NotFoundf("the file of export %d is kept by the replica of "+
			"mediasign that wrote it, not by this one: an operator can set "+
			"MEDIASIGN_EXPORT_CONNECTION and MEDIASIGN_EXPORT_BUCKET so that every replica "+
			"serves export files; until then, retry (another replica may answer) or start "+
			"a new export", id)
	}
	return mediasign.NotFoundf("the file of export %d is not on this server: "+
		"start a new export", id)
}

// Delete stops an export if it runs here, and removes its file and then
// the export. When the file cannot be removed from its bucket, the export
// is kept and the error says so.
func (m *Manager) Delete(ctx context.Context, projectID, id int64) error {
	if _, err := m.Get(ctx, projectID, id); err != nil {
		return err
	}
	if j := m.job(id); j != nil {
		j.cancel(errDeleted)
		<-j.done
	}

	// The job may have recorded its file meanwhile.
	e, err := m.Get(ctx, projectID, id)
	if err != nil {
		return err
	}
	if e.ObjectKey != "" {
		if err := m.deleteObject(ctx, e); err != nil {
			return err
		}
	}
	if err := m.opts.Store.DeleteExport(ctx, id); err != nil {
		return err
	}
	if err := os.Remove(m.path(e)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove export file: %w", err)
	}
	return nil
}
