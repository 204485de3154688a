package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/mediasign/mediasign"
)

const memberUsage = "Usage: mediasign member add|remove|list [flags]\n\nRun 'mediasign member ACTION --help' for the flags of an action."

func runMember(ctx context.Context, env Env, args []string) error {
	return runAction(ctx, env, args, memberUsage, []action{
		{"add", runMemberAdd},
		{"remove", runMemberRemove},
		{"list", runMemberList},
	})
}

func runMemberAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "member add", "member add --project P --role ROLE [flags] USER",
		"Gives a user a role in a project: viewer (view URLs), editor (also upload\n"+
			"URLs) or admin (also members, tokens, datasets and imports). Run it again\n"+
			"to change the role.")
	var (
		state         stateFlags
		project, role string
	)
	state.register(fs)
	fs.StringVar(&project, "project", "", "project name (required)")
	fs.StringVar(&role, "role", "viewer", "viewer, editor or admin")
	if err := parseOne(fs, args, "the user name"); err != nil {
		return err
	}
	if err := requireProject(project); err != nil {
		return err
	}
	r, err := mediasign.ParseRole(role)
	if err != nil {
		return err
	}

	a, users, err := openUsers(ctx, env, state)
	if err != nil {
		return err
	}
	defer a.Close()
	m, err := users.SetMember(ctx, project, fs.Arg(0), r)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%q is %s of project %q\n", m.UserName, m.Role, m.ProjectName)
	return nil
}

func runMemberRemove(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "member remove", "member remove --project P [flags] USER",
		"Takes a user out of a project.")
	var (
		state   stateFlags
		project string
	)
	state.register(fs)
	fs.StringVar(&project, "project", "", "project name (required)")
	if err := parseOne(fs, args, "the user name"); err != nil {
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
	if err := users.RemoveMember(ctx, project, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "removed %q from project %q\n", fs.Arg(0), project)
	return nil
}

func runMemberList(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "member list", "member list --project P [flags]",
		"Lists the members of a project with their roles.")
	var (
		state   stateFlags
		project string
		asJSON  bool
	)
	state.register(fs)
	fs.StringVar(&project, "project", "", "project name (required)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := parse(fs, args); err != nil {
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
	members, err := users.Members(ctx, project)
	if err != nil {
		return err
	}

	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(members)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tROLE\tFROM")
	for _, m := range members {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.UserName, m.Role, m.Source)
	}
	return tw.Flush()
}
