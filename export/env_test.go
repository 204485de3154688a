package export_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/internal/testenv/s3server"
	s3provider "github.com/mediasign/mediasign/provider/s3"
	"github.com/mediasign/mediasign/service"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/store/sqlstore"
	"github.com/mediasign/mediasign/urlcache"
)

// envOptions shapes a test environment; the zero value is the defaults.
type envOptions struct {
	policy   urlcache.Policy
	clock    mediasign.Clock
	margin   time.Duration
	pageSize int

	// s3 is the server the connection points at; nothing is ever fetched
	// when it is nil.
	s3 *s3server.Server

	// credentialsExpireAt makes the connection's credentials temporary.
	credentialsExpireAt *time.Time
}

// env is a store, a cache, a service and an exporter wired as the app wires
// them, with one S3 connection and one project.
type env struct {
	store    *sqlstore.Store
	cache    *urlcache.Cache
	svc      *service.Service
	exporter *export.Exporter
	conn     *mediasign.Connection
	project  *mediasign.Project
	bucket   string
	clock    mediasign.Clock
}

func newEnv(tb testing.TB, opts envOptions) *env {
	tb.Helper()
	ctx := context.Background()
	if opts.policy == (urlcache.Policy{}) {
		opts.policy = urlcache.DefaultPolicy()
	}
	if opts.clock == nil {
		opts.clock = mediasign.SystemClock{}
	}
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "state.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })

	e := &env{store: st, bucket: "media", clock: opts.clock}
	e.cache = urlcache.New(urlcache.Options{Policy: opts.policy, Store: st, Clock: opts.clock})
	e.svc = service.New(service.Options{Store: st, Cache: e.cache, Clock: opts.clock,
		Drivers: service.Drivers{mediasign.ProviderS3: s3Driver(opts.clock)}})
	e.exporter = export.New(export.Options{Store: st, Service: e.svc,
		PublicURL: "http://127.0.0.1:8080", Clock: opts.clock, Margin: opts.margin,
		PageSize: opts.pageSize})

	e.conn = s3Connection(opts)
	must(tb, e.svc.AddConnection(ctx, e.conn))
	e.project, err = e.svc.AddProject(ctx, "vision")
	must(tb, err)
	return e
}

func s3Driver(clock mediasign.Clock) service.Driver {
	return service.Driver{
		Validate: func(c *mediasign.Connection) error { return s3provider.ValidateConfig(c.S3) },
		Open: func(c *mediasign.Connection) (mediasign.Storage, error) {
			return s3provider.New(c, s3provider.Options{Clock: clock})
		},
	}
}

func s3Connection(opts envOptions) *mediasign.Connection {
	cfg := &mediasign.S3Config{AccessKeyID: "AKIAEXPORTBENCH00001",
		SecretAccessKey: "export-benchmark-secret-key-0000000000", Region: "us-east-1",
		Endpoint: "http://127.0.0.1:9", PathStyle: true,
		CredentialsExpireAt: opts.credentialsExpireAt}
	if opts.s3 != nil {
		cfg.AccessKeyID, cfg.SecretAccessKey = opts.s3.AccessKey, opts.s3.Secret
		cfg.Region, cfg.Endpoint = opts.s3.Region, opts.s3.Endpoint
	}
	if opts.credentialsExpireAt != nil {
		cfg.SessionToken = "export-test-session-token"
	}
	return &mediasign.Connection{Name: "archive", Provider: mediasign.ProviderS3, S3: cfg}
}

func (e *env) dataset(name string) *mediasign.Dataset {
	d, err := e.svc.AddDataset(context.Background(), e.project.ID, name)
	if err != nil {
		panic(err)
	}
	return d
}

// bumpRevision changes the connection, so every cached URL of it is stale.
func (e *env) bumpRevision(tb testing.TB) {
	tb.Helper()
	must(tb, e.store.UpdateConnection(context.Background(), e.conn))
}

// export runs an export and fails the test if it fails.
func (e *env) export(tb testing.TB, datasets []*mediasign.Dataset, format mediasign.ExportFormat,
	path string) export.Result {
	tb.Helper()
	res, err := e.tryExport(datasets, format, path, nil)
	if err != nil {
		tb.Fatalf("export: %v", err)
	}
	return res
}

func (e *env) tryExport(datasets []*mediasign.Dataset, format mediasign.ExportFormat, path string,
	progress func(export.Progress)) (export.Result, error) {
	ctx := context.Background()
	plan, err := e.exporter.Plan(ctx, datasets)
	if err != nil {
		return export.Result{}, err
	}
	return e.exporter.Run(ctx, export.Request{Project: e.project, Datasets: datasets,
		Format: format, Path: path, Progress: progress}, plan)
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
