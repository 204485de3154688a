package cli

import (
	"context"
	"fmt"

	"github.com/mediasign/mediasign/service"
)

func runImport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "import", "import [flags]",
		"Adds the objects under a prefix to a dataset, creating the project and the\n"+
			"dataset when needed. Running it again adds only what is new.")
	var (
		state            stateFlags
		project, dataset string
		req              service.ImportRequest
	)
	state.register(fs)
	fs.StringVar(&req.Connection, "connection", "", "connection to import from (required)")
	fs.StringVar(&project, "project", "", "project of the dataset (required)")
	fs.StringVar(&dataset, "dataset", "", "dataset to add to (required)")
	fs.StringVar(&req.Bucket, "bucket", "", "bucket (S3)")
	fs.StringVar(&req.Prefix, "prefix", "", "only objects whose key starts with this")
	fs.StringVar(&req.ThumbPrefix, "thumb-prefix", "",
		"where thumbnails live: PREFIX+rel has the thumbnail THUMB-PREFIX+rel")
	fs.BoolVar(&req.AllFiles, "all-files", false, "import every object, not only media files")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := needArgs(fs, 0, "no arguments"); err != nil {
		return err
	}
	if req.Connection == "" || project == "" || dataset == "" {
		return fmt.Errorf("--connection, --project and --dataset are required")
	}

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()

	p, err := a.Service.EnsureProject(ctx, project)
	if err != nil {
		return err
	}
	d, err := a.Service.EnsureDataset(ctx, p.ID, dataset)
	if err != nil {
		return err
	}
	req.DatasetID = d.ID
	res, err := a.Service.Import(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "dataset %s/%s (id %d): listed %d, added %d, skipped %d\n",
		p.Name, d.Name, d.ID, res.Listed, res.Added, res.Skipped)
	return nil
}
