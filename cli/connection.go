package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mediasign/mediasign"
)

// Environment variables that carry connection secrets, so they stay out of
// the process list and the shell history.
const (
	envS3Secret  = "MEDIASIGN_S3_SECRET_ACCESS_KEY"
	envS3Session = "MEDIASIGN_S3_SESSION_TOKEN"
)

func runConnection(ctx context.Context, env Env, args []string) error {
	return runAction(ctx, env, args, connectionUsage, []action{
		{"add", runConnectionAdd},
		{"list", runConnectionList},
		{"test", runConnectionTest},
		{"grant", func(ctx context.Context, env Env, args []string) error {
			return runConnectionGrant(ctx, env, args, true)
		}},
		{"revoke", func(ctx context.Context, env Env, args []string) error {
			return runConnectionGrant(ctx, env, args, false)
		}},
	})
}

// envSignerToken holds the service token a connection's custom URL signer
// accepts for work that has no user, kept out of the command line.
const envSignerToken = "MEDIASIGN_SIGNER_SERVICE_TOKEN"

const connectionUsage = "Usage: mediasign connection add|list|test|grant|revoke [flags]\n\nRun 'mediasign connection ACTION --help' for the flags of an action."

func runConnectionGrant(ctx context.Context, env Env, args []string, grant bool) error {
	name := "connection grant"
	about := "Lets the admins of a project import from a connection. Connections serve\n" +
		"the whole installation; without a grant only installation admins import\n" +
		"from them."
	if !grant {
		name = "connection revoke"
		about = "Takes a project's grant of a connection back. Media already imported\n" +
			"stay; new imports from the connection are refused."
	}
	fs := newFlags(env, name, name+" --project P [flags] NAME", about)
	var (
		state   stateFlags
		project string
	)
	state.register(fs)
	fs.StringVar(&project, "project", "", "project name (required)")
	if err := parseOne(fs, args, "the connection name"); err != nil {
		return err
	}
	if err := requireProject(project); err != nil {
		return err
	}

	a, users, err := openUsers(ctx, env, state)
	if err != nil {
		return err
	}
	defer a.Close()
	if !grant {
		if err := users.RevokeConnection(ctx, fs.Arg(0), project); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "project %q may no longer import from connection %q\n",
			project, fs.Arg(0))
		return nil
	}
	if err := users.GrantConnection(ctx, fs.Arg(0), project); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "admins of project %q may import from connection %q\n", project,
		fs.Arg(0))
	return nil
}

func runConnectionAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "connection add", "connection add [flags] NAME",
		"Adds a storage connection. The secret key and session token are read from\n"+
			envS3Secret+" and "+envS3Session+" when their flags are not given.")
	var (
		state          stateFlags
		provider       string
		s3             mediasign.S3Config
		root, credsExp string
		signer         mediasign.SignerConfig
	)
	state.register(fs)
	fs.StringVar(&provider, "provider", "s3", "s3 or local")
	fs.StringVar(&signer.URL, "signer-url", "", "base URL of a custom URL signer that signs this "+
		"connection's URLs (its service token is read from "+envSignerToken+")")
	fs.StringVar(&signer.Forward, "signer-forward", "", "how the caller reaches the signer: "+
		"auto, bearer, jwt or cookie (default auto)")
	fs.StringVar(&signer.CookieName, "signer-cookie", "", "cookie name in cookie forward mode")
	fs.StringVar(&signer.CacheScope, "signer-scope", "", "cache URLs per user (user, the default) "+
		"or for everyone (shared)")
	fs.BoolVar(&signer.Batch, "signer-batch", false, "the signer speaks the batch extension")
	fs.StringVar(&s3.AccessKeyID, "access-key-id", "", "S3 access key id")
	fs.StringVar(&s3.SecretAccessKey, "secret-access-key", "", "S3 secret key (prefer env "+envS3Secret+")")
	fs.StringVar(&s3.SessionToken, "session-token", "", "S3 session token of temporary credentials")
	fs.StringVar(&credsExp, "credentials-expire-at", "", "when temporary credentials expire (RFC 3339)")
	fs.StringVar(&s3.Region, "region", "us-east-1", "S3 region")
	fs.StringVar(&s3.Endpoint, "endpoint", "", "S3 endpoint URL; empty for AWS")
	fs.BoolVar(&s3.PathStyle, "path-style", false, "address buckets in the path, not the host name")
	fs.StringVar(&s3.PublicEndpoint, "public-endpoint", "", "endpoint URL browsers reach; URLs are signed for it")
	fs.StringVar(&root, "root", "", "directory of a local connection")
	if err := parseOne(fs, args, "the connection name"); err != nil {
		return err
	}

	c := &mediasign.Connection{Name: fs.Arg(0), Provider: mediasign.Provider(provider)}
	switch c.Provider {
	case mediasign.ProviderS3:
		if err := s3Secrets(env, &s3, credsExp); err != nil {
			return err
		}
		c.S3 = &s3
	case mediasign.ProviderLocal:
		if root == "" {
			return fmt.Errorf("a local connection needs --root: the directory that holds the media")
		}
		abs, err := filepath.Abs(root)
		if err != nil {
			return fmt.Errorf("resolve --root %q: %w", root, err)
		}
		c.Local = &mediasign.LocalConfig{Root: abs}
	default:
		return fmt.Errorf("--provider %q is not known: use s3 or local", provider)
	}
	if signer.URL != "" {
		signer.ServiceToken, _ = env.Lookup(envSignerToken)
		c.Signer = &signer
	}

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Service.AddConnection(ctx, c); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added %s connection %q\n", c.Provider, c.Name)
	return nil
}

func s3Secrets(env Env, s3 *mediasign.S3Config, credsExp string) error {
	if s3.SecretAccessKey == "" {
		s3.SecretAccessKey, _ = env.Lookup(envS3Secret)
	}
	if s3.SessionToken == "" {
		s3.SessionToken, _ = env.Lookup(envS3Session)
	}
	if credsExp == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, credsExp)
	if err != nil {
		return fmt.Errorf("--credentials-expire-at %q is not an RFC 3339 time such as "+
			"2026-12-31T23:00:00Z", credsExp)
	}
	s3.CredentialsExpireAt = &t
	return nil
}

func runConnectionList(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "connection list", "connection list [flags]",
		"Lists the connections. Secrets are never shown.")
	var (
		state  stateFlags
		asJSON bool
	)
	state.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	conns, err := a.Service.Connections(ctx)
	if err != nil {
		return err
	}

	granted := make([][]string, len(conns))
	for i, c := range conns {
		if granted[i], err = grantedProjects(ctx, a.Store, c); err != nil {
			return err
		}
	}

	if asJSON {
		out := make([]map[string]any, len(conns))
		for i, c := range conns {
			out[i] = map[string]any{"name": c.Name, "provider": c.Provider, "where": where(c),
				"revision": c.Revision, "projects": granted[i]}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPROVIDER\tWHERE\tGRANTED TO")
	for i, c := range conns {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Provider, where(c),
			strings.Join(granted[i], ","))
	}
	return tw.Flush()
}

// grantedProjects returns the names of the projects whose admins may
// import from c.
func grantedProjects(ctx context.Context, st mediasign.Store, c *mediasign.Connection) ([]string, error) {
	ps, err := st.ListConnectionGrants(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names, nil
}

// where describes what a connection points at, without secrets.
func where(c *mediasign.Connection) string {
	switch {
	case c.Local != nil:
		return c.Local.Root
	case c.S3 != nil && c.S3.Endpoint != "":
		return c.S3.Endpoint + " (" + c.S3.Region + ")"
	case c.S3 != nil:
		return "aws " + c.S3.Region
	}
	return ""
}

func runConnectionTest(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "connection test", "connection test [flags] NAME",
		"Checks that a connection reaches its storage with its credentials.")
	var (
		state  stateFlags
		bucket string
	)
	state.register(fs)
	fs.StringVar(&bucket, "bucket", "", "bucket to check (S3)")
	if err := parseOne(fs, args, "the connection name"); err != nil {
		return err
	}

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Service.TestConnection(ctx, fs.Arg(0), bucket); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "connection %q works\n", fs.Arg(0))
	return nil
}
