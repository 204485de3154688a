package cli

import (
	"context"
	"fmt"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/auth/oidc"
	"github.com/mediasign/mediasign/config"
)

// setupAuth builds the authenticator of the configured installation mode.
func setupAuth(ctx context.Context, a *app.App) (*auth.Authenticator, error) {
	cfg := a.Config
	admin, err := auth.SetupAdminToken(ctx, a.Store, cfg.AdminToken)
	if err != nil {
		return nil, err
	}
	opts := auth.Options{Store: a.Store, Mode: auth.ModeSession, Admin: admin,
		SessionTTL: cfg.SessionTTL, BehindHTTPS: cfg.BehindHTTPS, PublicURL: cfg.PublicURL,
		TrustedProxies: cfg.TrustedProxies, Clock: a.Clock,
		Logger: a.Logger.With("component", "auth")}

	if cfg.OAuth2.Enabled {
		v, err := oidc.New(ctx, oidc.Config{Issuer: cfg.OAuth2.Issuer,
			Audience: cfg.OAuth2.Audience, Algorithms: cfg.OAuth2.Algorithms,
			RoleClaim: cfg.OAuth2.RoleClaim, Clock: a.Clock})
		if err != nil {
			return nil, fmt.Errorf("set up OAuth2 mode (%s=true): %w", config.EnvUseOAuth2, err)
		}
		opts.Mode, opts.Verifier = auth.ModeOAuth2, auth.OIDC(v)
		opts.SyncRoles = cfg.OAuth2.RoleClaim != ""
	}
	return auth.New(opts)
}

// firstAdmin makes sure someone can administer the installation: in
// session mode it creates the user "admin" on the first start and prints
// its password once.
func firstAdmin(ctx context.Context, env Env, a *app.App, au *auth.Authenticator) error {
	if au.Mode() != auth.ModeSession {
		return hintOAuth2Admin(ctx, a)
	}
	password, err := au.Users().EnsureFirstAdmin(ctx)
	if err != nil || password == "" {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nFirst start: sign in as user %q with password (shown once, "+
		"keep it): %s\nChange it with 'mediasign user passwd %s'.\n\n",
		auth.FirstAdminName, password, auth.FirstAdminName)
	return nil
}

// hintOAuth2Admin logs how to get a first installation admin in OAuth2
// mode, when no installation admin has an OAuth2 subject.
func hintOAuth2Admin(ctx context.Context, a *app.App) error {
	users, err := a.Store.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.InstallAdmin && u.CanSignIn(mediasign.SignInOAuth2) {
			return nil
		}
	}
	if a.Config.AdminToken == "" {
		a.Logger.Warn("no installation admin can sign in through oauth2: run 'mediasign " +
			"user add --admin --oauth2-subject SUB NAME' or set " + config.EnvAdminToken)
	}
	return nil
}
