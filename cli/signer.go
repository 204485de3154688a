package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/refsigner"
)

func runSigner(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "secret" {
		return runSignerSecret(ctx, env, args[1:])
	}
	fs := newFlags(env, "signer", "signer [flags] | signer secret [flags]",
		"Runs the reference custom URL signer: it checks the caller mediasign forwards\n"+
			"(a JWT in jwt mode, the session cookie in session mode), applies a policy file\n"+
			"of users and groups to bucket prefixes and methods, and signs with its own S3\n"+
			"credentials. Settings come from the "+refsigner.EnvMode+" and other\n"+
			"MEDIASIGN_SIGNER_ variables (see the README); the flags override them.\n\n"+
			"'mediasign signer secret' makes the secret a session-mode signer sends to\n"+
			"mediasign's session introspection endpoint, and prints it once.")
	var listen, mode, policy string
	fs.StringVar(&listen, "listen", "", "address to listen on (env "+refsigner.EnvListen+
		", default "+refsigner.DefaultListen+")")
	fs.StringVar(&mode, "mode", "", "jwt or session (env "+refsigner.EnvMode+", default jwt)")
	fs.StringVar(&policy, "policy", "", "policy file (env "+refsigner.EnvPolicy+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := needArgs(fs, 0, "no arguments"); err != nil {
		return err
	}

	cfg, err := refsigner.LoadConfig(env.Lookup)
	if err != nil {
		return err
	}
	applySignerFlags(&cfg, listen, mode, policy)
	return serveSigner(ctx, env, cfg)
}

func applySignerFlags(cfg *refsigner.Config, listen, mode, policy string) {
	if listen != "" {
		cfg.Listen = listen
	}
	if mode != "" {
		cfg.Mode = refsigner.Mode(mode)
	}
	if policy != "" {
		cfg.PolicyFile = policy
	}
}

// serveSigner runs the reference signer until ctx ends.
func serveSigner(ctx context.Context, env Env, cfg refsigner.Config) error {
	logger := newLogger(env.Stderr, signerLogConfig(env))
	s, err := refsigner.New(ctx, cfg, refsigner.Options{Clock: env.Clock, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (set --listen or %s to a free address): %w",
			cfg.Listen, refsigner.EnvListen, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}

	logger.Info("signer serving", "listen", ln.Addr().String(), "mode", string(cfg.Mode))
	fmt.Fprintf(env.Stdout, "mediasign signer is serving at http://%s/\n", ln.Addr())
	return runServer(ctx, srv, ln)
}

func runSignerSecret(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "signer secret", "signer secret [flags]",
		"Makes a new secret for the session introspection endpoint, which a reference\n"+
			"signer in session mode sends to learn whose session a cookie is, and prints it\n"+
			"once. The old secret stops working at once.")
	var state stateFlags
	state.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := needArgs(fs, 0, "no arguments"); err != nil {
		return err
	}

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	secret, err := a.Service.ResetSignerSecret(ctx)
	if err != nil {
		return err
	}
	// The label goes to stderr so that S=$(mediasign signer secret) holds
	// the secret alone.
	fmt.Fprintf(env.Stderr, "signer introspection secret (shown once; set it as %s):\n",
		refsigner.EnvIntrospectionSecret)
	fmt.Fprintln(env.Stdout, secret)
	return nil
}

// signerLogConfig reads the log settings the signer shares with mediasign.
func signerLogConfig(env Env) config.Config {
	c := config.Config{LogLevel: "info", LogFormat: "text"}
	if v, ok := env.Lookup(config.EnvLogLevel); ok && v != "" {
		c.LogLevel = v
	}
	if v, ok := env.Lookup(config.EnvLogFormat); ok && v != "" {
		c.LogFormat = v
	}
	return c
}
