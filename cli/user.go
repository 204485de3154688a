package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/auth"
)

const userUsage = "Usage: mediasign user add|list|remove|passwd|admin|unadmin [flags]\n\nRun 'mediasign user ACTION --help' for the flags of an action."

func runUser(ctx context.Context, env Env, args []string) error {
	return runAction(ctx, env, args, userUsage, []action{
		{"add", runUserAdd},
		{"list", runUserList},
		{"remove", runUserRemove},
		{"passwd", runUserPasswd},
		{"admin", func(ctx context.Context, env Env, args []string) error { return runUserAdmin(ctx, env, args, true) }},
		{"unadmin", func(ctx context.Context, env Env, args []string) error { return runUserAdmin(ctx, env, args, false) }},
	})
}

// openUsers opens the state and returns its user manager.
func openUsers(ctx context.Context, env Env, state stateFlags) (*app.App, *auth.Users, error) {
	a, err := state.open(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	signIn := mediasign.SignInPassword
	if a.Config.OAuth2.Enabled {
		signIn = mediasign.SignInOAuth2
	}
	return a, auth.NewUsers(a.Store, auth.UsersOptions{SignIn: signIn, Clock: a.Clock,
		Logger: a.Logger.With("component", "auth")}), nil
}

// newPassword reads a password from the first line of stdin, or makes one
// and says it must be shown.
func newPassword(env Env, fromStdin bool) (password string, generated bool, err error) {
	if !fromStdin {
		return auth.GeneratePassword(), true, nil
	}
	line, err := bufio.NewReader(io.LimitReader(env.Stdin, auth.MaxPasswordBytes+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", false, fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

func runUserAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "user add", "user add [flags] NAME",
		"Adds a user. Without --password-stdin a random password is made and printed\n"+
			"once. A user with --oauth2-subject signs in through the OAuth2 provider.")
	var (
		state     stateFlags
		admin     bool
		subject   string
		fromStdin bool
	)
	state.register(fs)
	fs.BoolVar(&admin, "admin", false, "make the user an installation admin")
	fs.StringVar(&subject, "oauth2-subject", "", "the user's subject (sub claim) at the OAuth2 provider")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin")
	if err := parseOne(fs, args, "the user name"); err != nil {
		return err
	}

	in := auth.NewUser{Name: fs.Arg(0), Subject: subject, InstallAdmin: admin}
	generated := false
	if subject == "" || fromStdin {
		var err error
		if in.Password, generated, err = newPassword(env, fromStdin); err != nil {
			return err
		}
	}

	a, users, err := openUsers(ctx, env, state)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := users.Add(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added user %q\n", u.Name)
	if generated {
		fmt.Fprintf(env.Stdout, "password (shown once, keep it): %s\n", in.Password)
	}
	return nil
}

func runUserList(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "user list", "user list [flags]", "Lists the users.")
	var (
		state  stateFlags
		asJSON bool
	)
	state.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}

	a, users, err := openUsers(ctx, env, state)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := users.List(ctx)
	if err != nil {
		return err
	}

	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tINSTALLATION ADMIN\tSIGNS IN WITH\tCREATED")
	for _, u := range list {
		with := "password"
		if u.Subject != "" {
			with = "oauth2"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\n", u.Name, u.InstallAdmin, with,
			u.CreatedAt.Format("2006-01-02"))
	}
	return tw.Flush()
}

func runUserRemove(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "user remove", "user remove [flags] NAME",
		"Removes a user, their memberships and sessions. The last installation admin\n"+
			"cannot be removed.")
	var state stateFlags
	state.register(fs)
	if err := parseOne(fs, args, "the user name"); err != nil {
		return err
	}

	a, users, err := openUsers(ctx, env, state)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := users.Remove(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "removed user %q and ended their sessions\n", fs.Arg(0))
	return nil
}

func runUserPasswd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "user passwd", "user passwd [flags] NAME",
		"Sets a new password and ends every session of the user. Without\n"+
			"--password-stdin a random password is made and printed once.")
	var (
		state     stateFlags
		fromStdin bool
	)
	state.register(fs)
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin")
	if err := parseOne(fs, args, "the user name"); err != nil {
		return err
	}
	password, generated, err := newPassword(env, fromStdin)
	if err != nil {
		return err
	}

	a, users, err := openUsers(ctx, env, state)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := users.SetPassword(ctx, fs.Arg(0), password); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "password of %q changed; their sessions have ended\n", fs.Arg(0))
	if generated {
		fmt.Fprintf(env.Stdout, "password (shown once, keep it): %s\n", password)
	}
	return nil
}

func runUserAdmin(ctx context.Context, env Env, args []string, admin bool) error {
	name := "user admin"
	about := "Makes a user an installation admin, who may do everything in every\n" +
		"project and manage connections, projects and users."
	if !admin {
		name = "user unadmin"
		about = "Takes the installation admin role from a user; the API tokens they\n" +
			"made above their role in a project stop working. The last installation\n" +
			"admin who can sign in keeps the role."
	}
	fs := newFlags(env, name, name+" [flags] NAME", about)
	var state stateFlags
	state.register(fs)
	if err := parseOne(fs, args, "the user name"); err != nil {
		return err
	}

	a, users, err := openUsers(ctx, env, state)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := users.SetInstallAdmin(ctx, fs.Arg(0), admin)
	if err != nil {
		return err
	}
	if admin {
		fmt.Fprintf(env.Stdout, "%q is an installation admin\n", u.Name)
	} else {
		fmt.Fprintf(env.Stdout, "%q is no longer an installation admin\n", u.Name)
	}
	return nil
}
