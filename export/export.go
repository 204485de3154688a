// Package export writes the signed URLs of datasets to files whose URLs
// stay valid: one JSON document or JSON Lines, with a header and one entry
// per media file.
//
// An export streams: the catalog is read in pages, each page is signed by
// a pool of workers through the URL cache, and entries are written in
// order as they come, so memory does not grow with the dataset. When the
// last entry is written, a final check proves that every URL of the file
// has at least the cache minimum M of validity left; URLs that fall short
// are signed again first. The file is written under a temporary name,
// synced, and renamed only then, so an interrupted export never leaves a
// file that looks complete.
package export

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/service"
)

// Defaults of an Exporter.
const (
	DefaultPageSize = 2000

	// maxMargin bounds the default margin: the validity beyond M that URLs
	// have when they are written, which the rest of the export may use up
	// before the final check.
	maxMargin = time.Hour

	// maxRepairs bounds the passes that sign short URLs again.
	maxRepairs = 3
)

// Options configures an Exporter.
type Options struct {
	Store   mediasign.Store
	Service *service.Service

	// PublicURL is how clients reach mediasign; resolver URLs point at it.
	PublicURL string

	Clock  mediasign.Clock
	Logger *slog.Logger

	// Margin is the validity beyond M that every URL has when it is
	// written. The default is an hour, or half of N - M when that is less.
	Margin time.Duration

	// PageSize is how many media files are read and signed at once.
	PageSize int

	// Workers sign the URLs of a page side by side; GOMAXPROCS when zero.
	Workers int
}

// Exporter writes export files.
type Exporter struct {
	opts     Options
	resolver string
}

// New returns an Exporter.
func New(opts Options) *Exporter {
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	return &Exporter{opts: opts, resolver: strings.TrimSuffix(opts.PublicURL, "/") + "/m/"}
}

// ParseFormat parses the name of an export format: json, or jsonl (also
// spelled ndjson).
func ParseFormat(s string) (mediasign.ExportFormat, error) {
	switch strings.ToLower(s) {
	case "json":
		return mediasign.ExportJSON, nil
	case "jsonl", "ndjson":
		return mediasign.ExportJSONLines, nil
	}
	return "", mediasign.Invalidf("export format %q is not known: use jsonl (JSON Lines) "+
		"or json (one JSON document)", s)
}

// Extension returns the file name extension of a format, with its dot.
func Extension(f mediasign.ExportFormat) string { return "." + string(f) }

// ContentType returns the media type of a format's files.
func ContentType(f mediasign.ExportFormat) string {
	if f == mediasign.ExportJSONLines {
		return "application/jsonl"
	}
	return "application/json"
}

// Request says what to export and where.
type Request struct {
	Project  *mediasign.Project
	Datasets []*mediasign.Dataset
	Format   mediasign.ExportFormat

	// Path is where the finished file goes. It is written under a
	// temporary name in the same directory first.
	Path string

	// Progress, when set, is told how the export goes, from one goroutine
	// at a time.
	Progress func(Progress)
}

// Phase names a step of an export.
type Phase string

// Steps of an export.
const (
	PhaseWriting   Phase = "writing"
	PhaseResigning Phase = "resigning"
	PhaseDone      Phase = "done"
)

// Progress says how far an export has come.
type Progress struct {
	Phase    Phase
	Total    int64
	Written  int64
	Resigned int64
}

// Result describes a finished export file.
type Result struct {
	Count        int64
	Resigned     int64
	GeneratedAt  time.Time
	MinExpiresAt time.Time
	Size         int64
	Stats        service.BatchStats
}

// Plan is what an export reads: its datasets, each up to the last media
// file it held when the plan was made, so files added during the export
// are left out and the total stays true.
type Plan struct {
	Total int64
	parts []part
}

type part struct {
	dataset *mediasign.Dataset
	lastID  int64
}

// Plan counts the media files of datasets.
func (x *Exporter) Plan(ctx context.Context, datasets []*mediasign.Dataset) (*Plan, error) {
	p := &Plan{}
	for _, d := range datasets {
		n, last, err := x.opts.Store.MediaSnapshot(ctx, d.ID)
		if err != nil {
			return nil, fmt.Errorf("count media of dataset %q: %w", d.Name, err)
		}
		p.Total += n
		p.parts = append(p.parts, part{dataset: d, lastID: last})
	}
	return p, nil
}

// Run writes the export that req asks for, reading what plan says.
func (x *Exporter) Run(ctx context.Context, req Request, plan *Plan) (Result, error) {
	policy := x.opts.Service.Policy()
	h := Header{Project: req.Project.Name, MinValidSeconds: int64(policy.MinValid / time.Second)}
	for _, d := range req.Datasets {
		h.Datasets = append(h.Datasets, DatasetRef{ID: d.ID, Name: d.Name})
	}
	out, err := createFile(req.Path, req.Format, h)
	if err != nil {
		return Result{}, err
	}

	// Where mediasign signs itself, a presign costs less than a database
	// round trip: those URLs come from the memory tier or are signed anew.
	// Custom signers are asked on behalf of the requester in ctx while
	// their credential lasts, and with the service token after that.
	signer := x.opts.Service.NewMediaSigner(ctx, service.BatchOptions{Extra: x.margin(),
		Workers: x.opts.Workers, CredentialUntil: x.credentialUntil(ctx)})
	r := &run{x: x, req: req, plan: plan, signer: signer, policy: policy}
	res, err := r.export(ctx, out)
	res.Stats = signer.Close()
	return res, err
}

// margin returns the validity beyond M that URLs have when written. It
// stays below N - M, or no new URL could have it.
func (x *Exporter) margin() time.Duration {
	p := x.opts.Service.Policy()
	room := (p.NewValid - p.MinValid) / 2
	if x.opts.Margin > 0 {
		return min(x.opts.Margin, p.NewValid-p.MinValid)
	}
	return min(maxMargin, room)
}
