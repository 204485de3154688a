package cli

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/urlcache"
)

func runVersion(ctx context.Context, env Env, args []string) error {
	fmt.Fprintln(env.Stdout, "mediasign", Version)
	return nil
}

func runToken(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "token", "token reset [flags]",
		"Replaces the admin token with a new one and prints it once. The old token\n"+
			"stops working when the service restarts.")
	var state stateFlags
	state.register(fs)
	rest, err := oneAction(fs, args, "reset")
	if err != nil {
		return err
	}
	if err := parse(fs, rest); err != nil {
		return err
	}

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	token, err := auth.ResetAdminToken(ctx, a.Store)
	if err != nil {
		return err
	}
	// The label goes to stderr so that T=$(mediasign token reset) holds the
	// token alone.
	fmt.Fprintln(env.Stderr, "new admin token (shown once):")
	fmt.Fprintln(env.Stdout, token)
	return nil
}

func runConfig(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "config", "config check [flags]",
		"Checks the settings and the stored connections against them, and prints what\n"+
			"is in force.")
	var state stateFlags
	state.register(fs)
	rest, err := oneAction(fs, args, "check")
	if err != nil {
		return err
	}
	if err := parse(fs, rest); err != nil {
		return err
	}

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if configured, err := a.Cache.CheckShared(ctx); configured && err != nil {
		return fmt.Errorf("redis of %s does not work: %w", config.EnvRedisURL, err)
	}
	c := a.Config
	fmt.Fprintf(env.Stdout, "listen        %s\npublic url    %s\ndata dir      %s\ndatabase      %s\n",
		c.Listen, c.PublicURL, c.DataDir, redactURL(c.DatabaseURL))
	fmt.Fprintf(env.Stdout, "%s = %d\n%s = %d\n", urlcache.EnvMinimumValid,
		int64(c.Policy.MinValid/time.Second), urlcache.EnvNewValid, int64(c.Policy.NewValid/time.Second))
	fmt.Fprintln(env.Stdout, "configuration is valid")
	return nil
}

// redactURL hides the password of a URL such as a database URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(not a valid URL)"
	}
	return u.Redacted()
}
