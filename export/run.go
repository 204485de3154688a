package export

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/service"
	"github.com/mediasign/mediasign/urlcache"
)

// run is one export being written.
type run struct {
	x      *Exporter
	req    Request
	plan   *Plan
	signer *service.MediaSigner
	policy urlcache.Policy

	datasets map[int64]string
	conns    map[int64]string
	written  int64
	resigned int64
}

// export streams the entries into out, then checks and commits it. Any
// failure removes the temporary file.
func (r *run) export(ctx context.Context, out *file) (Result, error) {
	if err := r.names(ctx); err != nil {
		out.abort()
		return Result{}, err
	}
	if err := r.stream(ctx, out); err != nil {
		out.abort()
		return Result{}, err
	}
	return r.finish(ctx, out)
}

// names loads the names entries show for datasets and connections.
func (r *run) names(ctx context.Context) error {
	r.datasets = make(map[int64]string, len(r.req.Datasets))
	for _, d := range r.req.Datasets {
		r.datasets[d.ID] = d.Name
	}
	conns, err := r.x.opts.Store.ListConnections(ctx)
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	r.conns = make(map[int64]string, len(conns))
	for _, c := range conns {
		r.conns[c.ID] = c.Name
	}
	return nil
}

// connName returns the name of a connection, loading one added since the
// export began.
func (r *run) connName(ctx context.Context, id int64) (string, error) {
	if name, ok := r.conns[id]; ok {
		return name, nil
	}
	c, err := r.x.opts.Store.Connection(ctx, id)
	if err != nil {
		return "", fmt.Errorf("load connection %d: %w", id, err)
	}
	r.conns[id] = c.Name
	return c.Name, nil
}

// entry builds the entry of one media file and its URLs.
func (r *run) entry(ctx context.Context, m *mediasign.MediaRef, u *service.MediaURLs, e *Entry) error {
	conn, err := r.connName(ctx, m.ConnectionID)
	if err != nil {
		return err
	}
	*e = Entry{ID: m.ID, Dataset: r.datasets[m.DatasetID], Connection: conn, Bucket: m.Bucket,
		Key: m.Key, MediaType: m.MediaType, Size: m.Size, URL: u.URL, ExpiresAt: u.ExpiresAt,
		ResolverURL: r.x.resolver + strconv.FormatInt(m.ID, 10)}
	if m.ThumbKey != "" {
		e.ThumbKey, e.ThumbURL, e.ThumbExpiresAt = m.ThumbKey, u.ThumbURL, u.ThumbExpiresAt
	}
	return nil
}

func (r *run) report(phase Phase) {
	if r.req.Progress != nil {
		r.req.Progress(Progress{Phase: phase, Total: r.plan.Total, Written: r.written,
			Resigned: r.resigned})
	}
}

// finish proves the guarantee and gives the file its final name: every
// URL must have at least M left after the file is synced. Entries that
// fall short are signed again in a new copy of the file, a few times at
// most.
func (r *run) finish(ctx context.Context, out *file) (Result, error) {
	if err := out.flush(); err != nil {
		out.abort()
		return Result{}, err
	}
	for pass := 0; ; pass++ {
		generated := r.now()
		if err := out.seal(generated); err != nil {
			out.abort()
			return Result{}, err
		}
		if r.holds(out, r.now()) {
			return r.place(out, generated)
		}
		if pass == maxRepairs {
			out.abort()
			return Result{}, r.tooSlow(out)
		}

		next, err := r.repair(ctx, out)
		out.abort()
		if err != nil {
			return Result{}, err
		}
		out = next
	}
}

// holds reports whether every URL of out has at least M left at at, in
// whole seconds as expiries are.
func (r *run) holds(out *file, at time.Time) bool {
	if out.count == 0 {
		return true
	}
	ceil := at.Truncate(time.Second)
	if ceil.Before(at) {
		ceil = ceil.Add(time.Second)
	}
	return !out.earliest.Before(ceil.Add(r.policy.MinValid))
}

func (r *run) place(out *file, generated time.Time) (Result, error) {
	size, err := out.place()
	if err != nil {
		out.abort()
		return Result{}, err
	}
	r.report(PhaseDone)
	return Result{Count: out.count, Resigned: r.resigned, MinExpiresAt: out.earliest,
		GeneratedAt: generated.UTC().Truncate(time.Second), Size: size}, nil
}

func (r *run) tooSlow(out *file) error {
	return &mediasign.Error{Code: mediasign.CodeUnavailable,
		Message: fmt.Sprintf("the export could not keep every URL valid for %d s: after %d "+
			"passes of signing again, the earliest URL expires at %s; try again when the "+
			"service is less busy", int64(r.policy.MinValid/time.Second), maxRepairs,
			out.earliest.UTC().Format(time.RFC3339))}
}

func (r *run) now() time.Time { return r.x.opts.Clock.Now() }

// repair copies out into a new file, signing again the entries whose URLs
// would not keep M plus the margin.
func (r *run) repair(ctx context.Context, old *file) (*file, error) {
	rd, err := openEntries(old)
	if err != nil {
		return nil, err
	}
	defer rd.close()
	next, err := createFile(r.req.Path, r.req.Format, old.header)
	if err != nil {
		return nil, err
	}

	threshold := r.now().Add(r.policy.MinValid + r.x.margin())
	if err := r.repairAll(ctx, rd, next, threshold); err != nil {
		next.abort()
		return nil, err
	}
	if err := next.flush(); err != nil {
		next.abort()
		return nil, err
	}
	return next, nil
}

func (r *run) repairAll(ctx context.Context, rd *reader, next *file, threshold time.Time) error {
	chunk := make([]Entry, 0, r.x.opts.PageSize)
	for {
		line, err := rd.next()
		if err != nil {
			return err
		}
		if line == nil {
			return r.repairChunk(ctx, chunk, threshold, next)
		}
		chunk = append(chunk, Entry{})
		if err := json.Unmarshal(line, &chunk[len(chunk)-1]); err != nil {
			return fmt.Errorf("read export entry back: %w", err)
		}
		if len(chunk) == cap(chunk) {
			if err := r.repairChunk(ctx, chunk, threshold, next); err != nil {
				return err
			}
			chunk = chunk[:0]
		}
	}
}

// repairChunk signs again the short entries of chunk and writes them all.
func (r *run) repairChunk(ctx context.Context, chunk []Entry, threshold time.Time, next *file) error {
	var short []int
	for i := range chunk {
		if chunk[i].earliest().Before(threshold) {
			short = append(short, i)
		}
	}
	if err := r.resign(ctx, chunk, short); err != nil {
		return err
	}
	for i := range chunk {
		if err := next.write(&chunk[i]); err != nil {
			return err
		}
	}
	r.report(PhaseResigning)
	return nil
}

// resign signs the entries at positions short of chunk again.
func (r *run) resign(ctx context.Context, chunk []Entry, short []int) error {
	if len(short) == 0 {
		return nil
	}
	ids := make([]int64, len(short))
	for k, i := range short {
		ids[k] = chunk[i].ID
	}
	found, err := r.x.opts.Store.MediaBatch(ctx, ids)
	if err != nil {
		return fmt.Errorf("load media to sign again: %w", err)
	}
	byID := make(map[int64]*mediasign.MediaRef, len(found))
	for _, m := range found {
		byID[m.ID] = m
	}

	refs := make([]mediasign.MediaRef, len(ids))
	for k, id := range ids {
		m, ok := byID[id]
		if !ok {
			return mediasign.Conflictf("media %d was removed during the export: start it again", id)
		}
		refs[k] = *m
	}
	urls := make([]service.MediaURLs, len(refs))
	if err := r.signer.Sign(ctx, refs, urls); err != nil {
		return err
	}

	for k, i := range short {
		e := &chunk[i]
		e.URL, e.ExpiresAt = urls[k].URL, urls[k].ExpiresAt
		if e.ThumbKey != "" {
			e.ThumbURL, e.ThumbExpiresAt = urls[k].ThumbURL, urls[k].ThumbExpiresAt
		}
	}
	r.resigned += int64(len(short))
	return nil
}
