package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/urlcache"
)

// progressEvery is how often plain progress lines are printed when stderr
// is not a terminal.
const progressEvery = 2 * time.Second

// listFlag collects a flag given several times or with commas.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

type exportFlags struct {
	state    stateFlags
	project  string
	datasets listFlag
	format   string
	output   string
	quiet    bool
}

func runExport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "export", "export --project P --dataset D [flags]",
		"Writes the signed URLs of the media files of datasets to a file: JSON Lines (a\n"+
			"header line, then one entry per file) or one JSON document. When the export\n"+
			"ends, every URL in it has at least "+urlcache.EnvMinimumValid+"\n"+
			"seconds left. The file is written under a temporary name and renamed when\n"+
			"complete, so an interrupted export never leaves a file that looks complete.")
	var f exportFlags
	f.state.register(fs)
	fs.StringVar(&f.project, "project", "", "project of the datasets (required)")
	fs.Var(&f.datasets, "dataset", "dataset to export (required); repeat it, or separate "+
		"names with commas, for several")
	fs.StringVar(&f.format, "format", "jsonl", "jsonl (JSON Lines) or json (one document)")
	fs.StringVar(&f.output, "output", "", "file to write (default PROJECT-DATASET.jsonl or .json)")
	fs.BoolVar(&f.quiet, "quiet", false, "print no progress")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := needArgs(fs, 0, "no arguments"); err != nil {
		return err
	}
	if f.project == "" || len(f.datasets) == 0 {
		return fmt.Errorf("--project and --dataset are required: name the datasets to export")
	}
	format, err := export.ParseFormat(f.format)
	if err != nil {
		return fmt.Errorf("--format: %s", mediasign.PublicMessage(err))
	}
	if f.output == "" {
		f.output = f.project + "-" + strings.Join(f.datasets, "+") + export.Extension(format)
	}
	if f.output == "-" {
		return fmt.Errorf("--output - is not supported: an export is written to a file and " +
			"renamed into place once every URL is checked; give a file path")
	}
	if err := export.CheckOutput(f.output); err != nil {
		return err
	}
	err = exportDatasets(ctx, env, f, format)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("export interrupted: %s was left as it was", f.output)
	}
	return err
}

func exportDatasets(ctx context.Context, env Env, f exportFlags, format mediasign.ExportFormat) error {
	a, err := f.state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()

	p, err := a.Store.ProjectByName(ctx, f.project)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return fmt.Errorf("project %q does not exist: check the name", f.project)
	}
	if err != nil {
		return err
	}
	datasets, err := export.Datasets(ctx, a.Store, p, f.datasets)
	if err != nil {
		return err
	}
	plan, err := a.Exporter.Plan(ctx, datasets)
	if err != nil {
		return err
	}

	warnLocalBase(ctx, env, a, f.state)

	prog := newExportProgress(env.Stderr, plan.Total, f.quiet)
	res, err := a.Exporter.Run(ctx, export.Request{Project: p, Datasets: datasets, Format: format,
		Path: f.output, Progress: prog.update}, plan)
	prog.finish(err == nil)
	if err != nil {
		return err
	}

	fmt.Fprintf(env.Stdout, "wrote %s: %d entries, %d bytes; every URL valid until %s at least "+
		"(%d s after %s)\n", f.output, res.Count, res.Size,
		res.MinExpiresAt.UTC().Format(time.RFC3339),
		int64(res.MinExpiresAt.Sub(res.GeneratedAt)/time.Second),
		res.GeneratedAt.UTC().Format(time.RFC3339))
	if res.Resigned > 0 {
		fmt.Fprintf(env.Stdout, "%d entries were signed again to keep that promise\n", res.Resigned)
	}
	return nil
}

// exportProgress shows how an export goes: a bar on a terminal, a line
// every few seconds otherwise.
type exportProgress struct {
	w     io.Writer
	total int64
	bar   *progressbar.ProgressBar
	quiet bool
	last  time.Time
	phase export.Phase
}

func newExportProgress(w io.Writer, total int64, quiet bool) *exportProgress {
	p := &exportProgress{w: w, total: total, quiet: quiet, last: time.Now()}
	if quiet || !isTerminal(w) {
		return p
	}
	p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("exporting"), progressbar.OptionShowCount(),
		progressbar.OptionShowIts(), progressbar.OptionSetItsString("files"),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth(),
		progressbar.OptionSetPredictTime(true))
	return p
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (p *exportProgress) update(pr export.Progress) {
	if p.quiet {
		return
	}
	if pr.Phase != p.phase && pr.Phase == export.PhaseResigning {
		p.say("signing again the URLs that the export outlasted")
	}
	p.phase = pr.Phase

	if p.bar != nil {
		if pr.Phase == export.PhaseWriting {
			_ = p.bar.Set64(pr.Written)
		}
		return
	}
	if pr.Phase == export.PhaseWriting && time.Since(p.last) >= progressEvery {
		p.last = time.Now()
		fmt.Fprintf(p.w, "exported %d of %d media files (%d%%)\n", pr.Written, p.total,
			percent(pr.Written, p.total))
	}
}

// say prints a line of its own, below the bar if there is one.
func (p *exportProgress) say(line string) {
	if p.bar != nil {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintln(p.w, line)
}

func (p *exportProgress) finish(ok bool) {
	if p.quiet {
		return
	}
	if p.bar != nil {
		if ok {
			_ = p.bar.Finish()
		}
		fmt.Fprintln(p.w)
		return
	}
	if ok {
		fmt.Fprintf(p.w, "exported %d of %d media files (100%%)\n", p.total, p.total)
	}
}

func percent(n, total int64) int64 {
	if total == 0 {
		return 100
	}
	return n * 100 / total
}

// warnLocalBase says where local URLs will point when no public URL was
// given: the command line cannot know the address the service listens on.
func warnLocalBase(ctx context.Context, env Env, a *app.App, state stateFlags) {
	if _, set := env.Lookup(config.EnvPublicURL); set || state.publicURL != "" {
		return
	}
	conns, err := a.Store.ListConnections(ctx)
	if err != nil {
		return
	}
	for _, c := range conns {
		if c.Provider == mediasign.ProviderLocal {
			fmt.Fprintf(env.Stderr, "note: URLs of local connections point at %s; if mediasign "+
				"serves elsewhere, set %s or --public-url to its address\n", a.Config.PublicURL,
				config.EnvPublicURL)
			return
		}
	}
}
