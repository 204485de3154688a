package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/mediasign/mediasign/app"
)

const keyAbout = "Manages the HMAC keys that sign local URLs. The newest key signs; every key\n" +
	"verifies, so URLs already handed out keep working after a rotation. A running\n" +
	"service sees changes within a second. To retire a key: rotate, wait until the\n" +
	"URLs it signed are no longer needed (at most the URL validity), then remove it."

func runKey(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "key", "key list|rotate|remove [flags] [KEY-ID]", keyAbout)
	var state stateFlags
	state.register(fs)
	if len(args) == 0 || isHelp(args[0]) {
		fs.Usage()
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	verb := args[0]
	if err := parse(fs, args[1:]); err != nil {
		return err
	}

	var run func(*app.App) error
	switch verb {
	case "list":
		run = func(a *app.App) error { return listKeys(env, a) }
	case "rotate":
		run = func(a *app.App) error { return rotateKey(env, a) }
	case "remove":
		if err := needArgs(fs, 1, "the id of the key to remove"); err != nil {
			return err
		}
		run = func(a *app.App) error { return removeKey(env, a, fs.Arg(0)) }
	default:
		fmt.Fprintf(env.Stderr, "mediasign key: unknown action %q: use list, rotate or remove\n\n", verb)
		fs.Usage()
		return errUsage
	}
	if verb != "remove" {
		if err := needArgs(fs, 0, "no arguments"); err != nil {
			return err
		}
	}

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	return run(a)
}

func listKeys(env Env, a *app.App) error {
	keys := a.Keyring.Keys()
	for i, k := range keys {
		mark := ""
		if i == len(keys)-1 {
			mark = "  (signs new URLs)"
		}
		fmt.Fprintf(env.Stdout, "%s  created %s%s\n", k.ID, k.CreatedAt.UTC().Format(time.RFC3339), mark)
	}
	return nil
}

func rotateKey(env Env, a *app.App) error {
	id, err := a.Keyring.Rotate()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "local URLs are now signed with key %s; older keys still verify "+
		"the URLs they signed\n", id)
	return nil
}

func removeKey(env Env, a *app.App, id string) error {
	if err := a.Keyring.Remove(id); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "key %s removed: URLs it signed no longer work\n", id)
	return nil
}
