package export

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/service"
)

// pagesInFlight bounds the pages between reading and writing: one being
// read, one being signed, one being written and one waiting at each step.
// Memory stays flat at about this many pages.
const pagesInFlight = 5

// page is a run of media files on its way through the pipeline.
type page struct {
	refs []mediasign.MediaRef
	urls []service.MediaURLs
}

// stream reads the plan's media page by page, signs each page and writes
// its entries in order, the three steps side by side.
func (r *run) stream(ctx context.Context, out *file) error {
	g, ctx := errgroup.WithContext(ctx)
	free := make(chan *page, pagesInFlight)
	for range pagesInFlight {
		free <- &page{refs: make([]mediasign.MediaRef, 0, r.x.opts.PageSize),
			urls: make([]service.MediaURLs, r.x.opts.PageSize)}
	}
	read := make(chan *page, 1)
	signed := make(chan *page, 1)

	g.Go(func() error {
		defer close(read)
		return r.readPages(ctx, free, read)
	})
	g.Go(func() error {
		defer close(signed)
		return r.signPages(ctx, read, signed)
	})
	g.Go(func() error { return r.writePages(ctx, signed, free, out) })
	return g.Wait()
}

// readPages reads the media of each dataset of the plan, in id order.
func (r *run) readPages(ctx context.Context, free <-chan *page, read chan<- *page) error {
	for _, pt := range r.plan.parts {
		after := int64(0)
		for after < pt.lastID {
			var p *page
			select {
			case p = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}

			var err error
			p.refs, err = r.x.opts.Store.MediaPage(ctx, pt.dataset.ID, after, pt.lastID,
				r.x.opts.PageSize, p.refs[:0])
			if err != nil || len(p.refs) == 0 {
				return err
			}
			after = p.refs[len(p.refs)-1].ID
			if err := send(ctx, read, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// signPages signs each page with the batch signer's pool of workers.
func (r *run) signPages(ctx context.Context, read <-chan *page, signed chan<- *page) error {
	for p := range read {
		if err := r.signer.Sign(ctx, p.refs, p.urls[:len(p.refs)]); err != nil {
			return err
		}
		if err := send(ctx, signed, p); err != nil {
			return err
		}
	}
	return nil
}

// writePages writes the entries of each page and hands the page back.
func (r *run) writePages(ctx context.Context, signed <-chan *page, free chan<- *page,
	out *file) error {
	var e Entry
	for p := range signed {
		for i := range p.refs {
			if err := r.entry(ctx, &p.refs[i], &p.urls[i], &e); err != nil {
				return err
			}
			if err := out.write(&e); err != nil {
				return err
			}
		}
		r.written += int64(len(p.refs))
		r.report(PhaseWriting)
		free <- p
	}
	return ctx.Err()
}

func send(ctx context.Context, ch chan<- *page, p *page) error {
	select {
	case ch <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
