package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/service"
)

// defaultProject holds the datasets of directories given with --media-dir.
const defaultProject = "local"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// serveMediaDir registers dir as a local connection, a dataset of the
// default project, and imports it. Running it again imports what is new.
func serveMediaDir(ctx context.Context, env Env, a *app.App, dir string) error {
	root, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolve --media-dir %q: %w", dir, err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return fmt.Errorf("--media-dir %q is not a directory that can be read", dir)
	}

	name := dirName(root)
	conn, err := ensureLocalConnection(ctx, a, "dir-"+name, root)
	if err != nil {
		return err
	}
	p, err := a.Service.EnsureProject(ctx, defaultProject)
	if err != nil {
		return err
	}
	d, err := a.Service.EnsureDataset(ctx, p.ID, name)
	if err != nil {
		return err
	}

	res, err := a.Service.Import(ctx, service.ImportRequest{DatasetID: d.ID, Connection: conn.Name})
	if err != nil {
		return err
	}
	total, err := a.Store.CountMedia(ctx, d.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Dataset %s/%s (id %d): %d media files from %s (%d new).\n",
		p.Name, d.Name, d.ID, total, root, res.Added)
	return nil
}

// dirName turns a directory's base name into a connection and dataset name.
func dirName(root string) string {
	name := strings.Trim(unsafeName.ReplaceAllString(filepath.Base(root), "-"), "-._")
	if name == "" {
		name = "media"
	}
	if len(name) > 48 {
		name = name[:48]
	}
	return name
}

func ensureLocalConnection(ctx context.Context, a *app.App, name, root string) (*mediasign.Connection, error) {
	c, err := findLocalConnection(ctx, a, name, root)
	if mediasign.ErrorCode(err) != mediasign.CodeNotFound {
		return c, err
	}

	c = &mediasign.Connection{Name: name, Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: root}}
	err = a.Service.AddConnection(ctx, c)
	if mediasign.ErrorCode(err) == mediasign.CodeConflict {
		// Another replica started with the same directory at the same time.
		return findLocalConnection(ctx, a, name, root)
	}
	return c, err
}

// findLocalConnection returns the connection called name when it serves
// root, and a not-found error when there is none.
func findLocalConnection(ctx context.Context, a *app.App, name, root string) (*mediasign.Connection, error) {
	c, err := a.Service.Connection(ctx, name)
	if err == nil {
		if c.Local == nil || c.Local.Root != root {
			return nil, fmt.Errorf("connection %q already exists for another place (%s): "+
				"rename the directory or use a separate --data-dir", name, where(c))
		}
		return c, nil
	}
	return nil, err
}
