// Package cli implements the mediasign command line.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/config"
)

// Version is set at build time.
var Version = "dev"

// Env is the process environment and standard streams a command uses.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Lookup func(string) (string, bool)
	Clock  mediasign.Clock
}

// OSEnv returns the environment of the running process.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Lookup: os.LookupEnv,
		Clock: mediasign.SystemClock{}}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP service", runServe},
		{"sign", "print a signed URL for one object", runSign},
		{"connection", "add, list and test storage connections", runConnection},
		{"import", "add the objects under a prefix to a dataset", runImport},
		{"export", "write the signed URLs of datasets to a JSON or JSON Lines file", runExport},
		{"user", "add, list, remove users and set passwords", runUser},
		{"member", "give users roles in projects", runMember},
		{"token", "replace the admin token", runToken},
		{"key", "list, rotate and remove the signing keys of local connections", runKey},
		{"signer", "run the reference custom URL signer; 'signer secret' for sessions", runSigner},
		{"config", "check the configuration", runConfig},
		{"version", "print the version", runVersion},
		{"dev", "for development: 'dev seed' makes a large synthetic catalog", runDev},
	}
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage")

// Run runs the command line and returns the process exit code.
func Run(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}

	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(env.Stderr, "mediasign %s: %v\n", c.name, err)
		return 1
	}

	fmt.Fprintf(env.Stderr, "mediasign: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mediasign serves private media through signed URLs.")
	fmt.Fprintln(w, "\nUsage: mediasign <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mediasign <command> --help' for the flags of a command.")
}

// newFlags returns a flag set whose usage names the command and says what it
// does.
func newFlags(env Env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: mediasign %s\n\n%s\n\nFlags:\n", synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and turns flag errors into errUsage. Flags may come
// after positional arguments, as in `connection test NAME --bucket B`;
// everything after "--" is positional.
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parsing "--" alone leaves the positional arguments as fs.Args().
	return fs.Parse(append([]string{"--"}, positional...))
}

// stateFlags are the flags of every command that opens the state.
type stateFlags struct {
	dataDir   string
	publicURL string
}

func (f *stateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", "", "directory of the state and keys (env "+
		config.EnvDataDir+", default ./data)")
	fs.StringVar(&f.publicURL, "public-url", "", "URL clients use to reach mediasign (env "+
		config.EnvPublicURL+")")
}

// loadConfig reads the environment and applies the flags set on top.
func (f *stateFlags) loadConfig(env Env) (config.Config, error) {
	cfg, err := config.Load(env.Lookup)
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if f.publicURL != "" {
		cfg.PublicURL = f.publicURL
	}
	if err != nil {
		// Report what else is wrong too, so one run lists every problem.
		check := cfg
		return cfg, errors.Join(err, check.Validate())
	}
	return cfg, nil
}

// open loads the configuration and opens the application with a logger
// that writes to stderr.
func (f *stateFlags) open(ctx context.Context, env Env) (*app.App, error) {
	cfg, err := f.loadConfig(env)
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, env.Clock, newLogger(env.Stderr, cfg))
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parseOne parses args and checks that exactly one positional argument,
// described by what, is given.
func parseOne(fs *flag.FlagSet, args []string, what string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	return needArgs(fs, 1, what)
}

// requireProject refuses an empty --project.
func requireProject(project string) error {
	if project == "" {
		return errors.New("--project is required: name the project")
	}
	return nil
}

// oneAction checks that args start with action, the only action of a
// command such as `token reset`, and returns the arguments after it. Help
// or anything else prints the usage.
func oneAction(fs *flag.FlagSet, args []string, action string) ([]string, error) {
	if len(args) > 0 && args[0] == action {
		return args[1:], nil
	}
	fs.Usage()
	if len(args) > 0 && isHelp(args[0]) {
		return nil, flag.ErrHelp
	}
	return nil, errUsage
}

// needArgs checks the number of positional arguments.
func needArgs(fs *flag.FlagSet, n int, what string) error {
	if fs.NArg() != n {
		fmt.Fprintf(fs.Output(), "mediasign %s: expected %s, got %d argument(s): %s\n\n",
			fs.Name(), what, fs.NArg(), strings.Join(fs.Args(), " "))
		fs.Usage()
		return errUsage
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "help"
}

// action is one verb of a command with several, such as `user add`.
type action struct {
	name string
	run  func(ctx context.Context, env Env, args []string) error
}

// runAction runs the action args[0] names, or prints usage: to stdout when
// help is asked for, to stderr with the unknown name otherwise.
func runAction(ctx context.Context, env Env, args []string, usage string, actions []action) error {
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	for _, a := range actions {
		if a.name == name {
			return a.run(ctx, env, args[1:])
		}
	}
	if isHelp(name) {
		fmt.Fprintln(env.Stdout, usage)
		return nil
	}
	fmt.Fprintf(env.Stderr, "%s\nunknown action %q\n", usage, name)
	return errUsage
}
