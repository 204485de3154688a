// Package seed fills a dataset with synthetic media files, quickly, for
// tests, benchmarks and `mediasign dev seed`. The objects need not exist:
// signing a URL never asks the storage.
package seed

import (
	"context"
	"fmt"

	"github.com/mediasign/mediasign"
)

// DefaultBatch is how many files one transaction inserts.
const DefaultBatch = 10_000

// Options says what to insert.
type Options struct {
	DatasetID    int64
	ConnectionID int64
	Bucket       string

	// Prefix starts every key; keys are Prefix + an eight-digit number +
	// ".jpg", so a second run with the same prefix adds nothing.
	Prefix string

	// Count is how many files to insert.
	Count int

	// ThumbEvery gives every n-th file a thumbnail under "thumbs/"; 0
	// gives none.
	ThumbEvery int

	// Batch is how many files one transaction inserts; DefaultBatch when
	// zero.
	Batch int

	// Progress, when set, is told after each batch how many were added.
	Progress func(added int)
}

// Media inserts the synthetic files and returns how many were new.
func Media(ctx context.Context, store mediasign.CatalogStore, opts Options) (int, error) {
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	batch := make([]mediasign.MediaFile, 0, opts.Batch)
	added := 0
	for i := 0; i < opts.Count; i++ {
		batch = append(batch, file(opts, i))
		if len(batch) < opts.Batch && i < opts.Count-1 {
			continue
		}

		n, err := store.AddMedia(ctx, batch)
		if err != nil {
			return added, fmt.Errorf("insert synthetic media: %w", err)
		}
		added += n
		batch = batch[:0]
		if opts.Progress != nil {
			opts.Progress(added)
		}
	}
	return added, nil
}

// file returns the i-th synthetic file.
func file(opts Options, i int) mediasign.MediaFile {
	name := fmt.Sprintf("%08d.jpg", i)
	f := mediasign.MediaFile{DatasetID: opts.DatasetID, ConnectionID: opts.ConnectionID,
		Bucket: opts.Bucket, Key: opts.Prefix + name, MediaType: "image/jpeg",
		Size: int64(20_000 + (i*7919)%180_000)}
	if opts.ThumbEvery > 0 && i%opts.ThumbEvery == 0 {
		f.ThumbKey = "thumbs/" + opts.Prefix + name
	}
	return f
}
