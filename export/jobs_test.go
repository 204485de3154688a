package export_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/export"
)

func newManager(t *testing.T, env *env, opts export.ManagerOptions) (*export.Manager, string) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "exports")
	}
	opts.Exporter, opts.Store = env.exporter, env.store
	if opts.Clock == nil {
		opts.Clock = env.clock
	}
	m, err := export.NewManager(opts)
	must(t, err)
	t.Cleanup(m.Close)
	return m, opts.Dir
}

// asAdmin is a request context with an installation admin as caller.
func asAdmin() context.Context {
	return mediasign.WithCaller(context.Background(), mediasign.Caller{InstallAdmin: true,
		Method: mediasign.AuthAdminToken})
}

// waitEnd polls an export until it is no longer running.
func waitEnd(t *testing.T, m *export.Manager, projectID, id int64) *mediasign.Export {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		e, err := m.Get(context.Background(), projectID, id)
		must(t, err)
		if e.State != mediasign.ExportRunning {
			return e
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("export %d still runs after a minute", id)
	return nil
}

func TestManagerRunsJobs(t *testing.T) {
	env := newEnv(t, envOptions{})
	seeded(t, env, "train", 300, 7)
	m, dir := newManager(t, env, export.ManagerOptions{})
	ctx := asAdmin()

	e, err := m.Start(ctx, export.StartRequest{Project: env.project, Datasets: []string{"train"}})
	must(t, err)
	if e.State != mediasign.ExportRunning || e.Total != 300 || e.Format != mediasign.ExportJSONLines {
		t.Fatalf("started export = %+v, want running, 300 files, JSON Lines", e)
	}
	done := waitEnd(t, m, env.project.ID, e.ID)
	if done.State != mediasign.ExportDone || done.Written != 300 || done.Size == 0 ||
		done.MinExpiresAt.Before(done.FinishedAt.Add(env.svc.Policy().MinValid)) {
		t.Fatalf("finished export = %+v", done)
	}

	d, err := m.Open(ctx, env.project.ID, e.ID, fileName)
	must(t, err)
	got := d.Export
	if d.File == nil || d.URL != "" {
		t.Fatalf("Open = %+v, want the local file and no URL", d)
	}
	path := filepath.Join(t.TempDir(), "copy.jsonl")
	copyFile(t, d.File, path)
	checkGuarantee(t, readExport(t, path, mediasign.ExportJSONLines), env.svc.Policy().MinValid, 300)
	if got.ID != e.ID {
		t.Fatalf("Open returned export %d, want %d", got.ID, e.ID)
	}

	list, err := m.List(ctx, env.project.ID)
	must(t, err)
	if len(list) != 1 || list[0].ID != e.ID {
		t.Fatalf("List = %d exports, want the one", len(list))
	}
	_, err = m.Get(ctx, env.project.ID+1, e.ID)
	wantCode(t, err, mediasign.CodeNotFound)

	must(t, m.Delete(ctx, env.project.ID, e.ID))
	_, err = m.Get(ctx, env.project.ID, e.ID)
	wantCode(t, err, mediasign.CodeNotFound)
	assertEmptyDir(t, dir)
}

func fileName(e *mediasign.Export) string {
	return fmt.Sprintf("export-%d%s", e.ID, export.Extension(e.Format))
}

func copyFile(t *testing.T, f *os.File, path string) {
	t.Helper()
	defer f.Close()
	out, err := os.Create(path)
	must(t, err)
	defer out.Close()
	_, err = io.Copy(out, f)
	must(t, err)
}

func TestManagerRefusesBadRequests(t *testing.T) {
	env := newEnv(t, envOptions{})
	seeded(t, env, "train", 3, 0)
	m, _ := newManager(t, env, export.ManagerOptions{})
	ctx := asAdmin()

	_, err := m.Start(ctx, export.StartRequest{Project: env.project})
	wantCode(t, err, mediasign.CodeInvalid)
	_, err = m.Start(ctx, export.StartRequest{Project: env.project, Datasets: []string{"train", "nope"}})
	wantCode(t, err, mediasign.CodeNotFound)
	if !strings.Contains(mediasign.PublicMessage(err), `"nope"`) {
		t.Errorf("unknown dataset message %q does not name it", mediasign.PublicMessage(err))
	}

	e, err := m.Start(ctx, export.StartRequest{Project: env.project, Datasets: []string{"train", "train"},
		Format: mediasign.ExportJSON})
	must(t, err)
	if len(e.DatasetIDs) != 1 {
		t.Fatalf("a dataset named twice is exported %d times", len(e.DatasetIDs))
	}
	if end := waitEnd(t, m, env.project.ID, e.ID); end.State != mediasign.ExportDone {
		t.Fatalf("export = %+v", end)
	}
}

// TestManagerRecoverFailsInterruptedJobs leaves the state a killed process
// leaves: a running export, its temporary file, and the file of an export
// that never finished. Start-up recovery fails the export with a reason
// and removes both files; the file of a done export stays; a new export
// runs.
func TestManagerRecoverFailsInterruptedJobs(t *testing.T) {
	env := newEnv(t, envOptions{})
	ds := seeded(t, env, "train", 20, 0)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "exports")
	must(t, os.MkdirAll(dir, 0o700))

	crashed := &mediasign.Export{ProjectID: env.project.ID, DatasetIDs: []int64{ds.ID},
		Format: mediasign.ExportJSONLines, Owner: "gone/1"}
	must(t, env.store.CreateExport(ctx, crashed))
	done := &mediasign.Export{ProjectID: env.project.ID, DatasetIDs: []int64{ds.ID},
		Format: mediasign.ExportJSON, Owner: "gone/1"}
	must(t, env.store.CreateExport(ctx, done))
	done.State, done.FinishedAt = mediasign.ExportDone, time.Now()
	must(t, env.store.FinishExport(ctx, done))
	for _, name := range []string{".1.jsonl.123.tmp", "1.jsonl", "2.json", "notes.txt"} {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600))
	}

	m, _ := newManager(t, env, export.ManagerOptions{Dir: dir})
	_, err := m.Open(ctx, env.project.ID, crashed.ID, fileName)
	wantCode(t, err, mediasign.CodeConflict)
	must(t, m.Recover(ctx))

	got, err := env.store.Export(ctx, crashed.ID)
	must(t, err)
	if got.State != mediasign.ExportFailed || !strings.Contains(got.Error, "mediasign stopped") {
		t.Fatalf("interrupted export = %s %q, want failed because mediasign stopped", got.State, got.Error)
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "2.json notes.txt" {
		t.Fatalf("after recovery the directory holds %v, want the done export's file and the stranger", names)
	}

	e, err := m.Start(asAdmin(), export.StartRequest{Project: env.project, Datasets: []string{"train"}})
	must(t, err)
	if end := waitEnd(t, m, env.project.ID, e.ID); end.State != mediasign.ExportDone {
		t.Fatalf("export after recovery = %+v", end)
	}
}

// TestSharedRecoverSparesLiveJobs fails only exports whose heartbeat
// stopped when other processes share the store.
func TestSharedRecoverSparesLiveJobs(t *testing.T) {
	env := newEnv(t, envOptions{})
	ds := seeded(t, env, "train", 1, 0)
	ctx := context.Background()
	now := time.Now()
	var ids []int64
	for _, beat := range []time.Time{now.Add(-time.Minute), now} {
		e := &mediasign.Export{ProjectID: env.project.ID, DatasetIDs: []int64{ds.ID},
			Format: mediasign.ExportJSONLines, Owner: "replica-2/x", HeartbeatAt: beat}
		must(t, env.store.CreateExport(ctx, e))
		ids = append(ids, e.ID)
	}

	m, _ := newManager(t, env, export.ManagerOptions{Shared: true, Heartbeat: time.Second})
	must(t, m.Recover(ctx))
	for i, want := range []mediasign.ExportState{mediasign.ExportFailed, mediasign.ExportRunning} {
		got, err := env.store.Export(ctx, ids[i])
		must(t, err)
		if got.State != want {
			t.Errorf("export with heartbeat %d = %s, want %s", i, got.State, want)
		}
	}
}

// TestManagerStopsJobs deletes a running export and stops another when the
// manager closes; neither leaves a file, and a third beyond MaxRunning is
// refused meanwhile.
func TestManagerStopsJobs(t *testing.T) {
	env := newEnv(t, envOptions{pageSize: 100})
	seeded(t, env, "big", 20_000, 0)
	m, dir := newManager(t, env, export.ManagerOptions{MaxRunning: 2})
	ctx := asAdmin()
	req := export.StartRequest{Project: env.project, Datasets: []string{"big"}}

	first, err := m.Start(ctx, req)
	must(t, err)
	second, err := m.Start(ctx, req)
	must(t, err)
	_, err = m.Start(ctx, req)
	wantCode(t, err, mediasign.CodeConflict)

	must(t, m.Delete(ctx, env.project.ID, first.ID))
	_, err = m.Get(ctx, env.project.ID, first.ID)
	wantCode(t, err, mediasign.CodeNotFound)

	m.Close()
	got, err := env.store.Export(context.Background(), second.ID)
	must(t, err)
	if got.State == mediasign.ExportRunning || (got.State == mediasign.ExportFailed &&
		!strings.Contains(got.Error, "mediasign stopped")) {
		t.Fatalf("export after Close = %s %q, want it ended", got.State, got.Error)
	}
	t.Logf("the second export was %s when the manager closed", got.State)
	if got.State == mediasign.ExportFailed {
		assertEmptyDir(t, dir)
	}
	_, err = m.Start(ctx, req)
	wantCode(t, err, mediasign.CodeUnavailable)
}

func wantCode(t *testing.T, err error, code mediasign.Code) {
	t.Helper()
	if got := mediasign.ErrorCode(err); err == nil || got != code {
		t.Fatalf("error %v has code %s, want %s", err, got, code)
	}
}
