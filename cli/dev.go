package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/internal/seed"
)

func runDev(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "dev", "dev seed [flags]",
		"Commands for development. 'dev seed' adds synthetic media files to a dataset, in\n"+
			"batches, to try exports and benchmarks on a large catalog: a million take\n"+
			"seconds. The objects need not exist; signing never asks the storage.")
	rest, err := oneAction(fs, args, "seed")
	if err != nil {
		return err
	}
	return runSeed(ctx, env, rest)
}

type seedFlags struct {
	state      stateFlags
	connection string
	project    string
	dataset    string
	opts       seed.Options
}

func runSeed(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "dev seed", "dev seed --connection C --project P --dataset D [flags]",
		"Adds --count synthetic media files PREFIX00000000.jpg, ... to a dataset,\n"+
			"creating the project and the dataset when needed. Running it again adds\n"+
			"nothing new.")
	var f seedFlags
	f.state.register(fs)
	fs.StringVar(&f.connection, "connection", "", "connection the files belong to (required)")
	fs.StringVar(&f.project, "project", "", "project of the dataset (required)")
	fs.StringVar(&f.dataset, "dataset", "", "dataset to fill (required)")
	fs.StringVar(&f.opts.Bucket, "bucket", "", "bucket of the files (S3)")
	fs.StringVar(&f.opts.Prefix, "prefix", "synthetic/", "start of every key")
	fs.IntVar(&f.opts.Count, "count", 1_000_000, "how many files")
	fs.IntVar(&f.opts.ThumbEvery, "thumb-every", 0, "give every n-th file a thumbnail (0: none)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := needArgs(fs, 0, "no arguments"); err != nil {
		return err
	}
	if f.connection == "" || f.project == "" || f.dataset == "" || f.opts.Count <= 0 {
		return fmt.Errorf("--connection, --project, --dataset and a --count above 0 are required")
	}

	a, err := f.state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	return seedDataset(ctx, env, a, f)
}

// seedDataset finds the connection, makes the dataset and inserts the
// files.
func seedDataset(ctx context.Context, env Env, a *app.App, f seedFlags) error {
	c, err := a.Service.Connection(ctx, f.connection)
	if err != nil {
		return err
	}
	p, err := a.Service.EnsureProject(ctx, f.project)
	if err != nil {
		return err
	}
	d, err := a.Service.EnsureDataset(ctx, p.ID, f.dataset)
	if err != nil {
		return err
	}

	f.opts.DatasetID, f.opts.ConnectionID = d.ID, c.ID
	start := time.Now()
	added, err := seed.Media(ctx, a.Store, f.opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "dataset %s/%s (id %d): added %d synthetic media files in %s\n",
		p.Name, d.Name, d.ID, added, time.Since(start).Round(time.Millisecond))
	return nil
}
