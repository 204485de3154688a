package service_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/service"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

// racingStore answers its first lookups as if another replica had not yet
// created the project and dataset it has in fact created.
type racingStore struct {
	mediasign.Store
	projectMisses, datasetMisses int
}

func (s *racingStore) ProjectByName(ctx context.Context, name string) (*mediasign.Project, error) {
	if s.projectMisses > 0 {
		s.projectMisses--
		return nil, mediasign.NotFoundf("project %q not found", name)
	}
	return s.Store.ProjectByName(ctx, name)
}

func (s *racingStore) DatasetByName(ctx context.Context, projectID int64, name string) (*mediasign.Dataset, error) {
	if s.datasetMisses > 0 {
		s.datasetMisses--
		return nil, mediasign.NotFoundf("dataset %q not found", name)
	}
	return s.Store.DatasetByName(ctx, projectID, name)
}

// TestEnsureSurvivesARace checks that two replicas creating the same project
// and dataset at once both succeed with the same rows.
func TestEnsureSurvivesARace(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := fakeclock.New(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	first := service.New(service.Options{Store: st, Clock: clock,
		Cache: urlcache.New(urlcache.Options{Policy: urlcache.DefaultPolicy(), Store: st, Clock: clock})})
	p, err := first.EnsureProject(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	d, err := first.EnsureDataset(ctx, p.ID, "media")
	if err != nil {
		t.Fatal(err)
	}

	late := &racingStore{Store: st, projectMisses: 1, datasetMisses: 1}
	second := service.New(service.Options{Store: late, Clock: clock,
		Cache: urlcache.New(urlcache.Options{Policy: urlcache.DefaultPolicy(), Store: late, Clock: clock})})
	p2, err := second.EnsureProject(ctx, "local")
	if err != nil || p2.ID != p.ID {
		t.Fatalf("EnsureProject after losing the race = %+v, %v; want project %d", p2, err, p.ID)
	}
	d2, err := second.EnsureDataset(ctx, p.ID, "media")
	if err != nil || d2.ID != d.ID {
		t.Fatalf("EnsureDataset after losing the race = %+v, %v; want dataset %d", d2, err, d.ID)
	}
}
