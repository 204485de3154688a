package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
)

// runCLI runs the command line with its state in dir and returns the exit
// code and the output.
func runCLI(t *testing.T, dir, stdin string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &out,
		Lookup: func(string) (string, bool) { return "", false }, Clock: mediasign.SystemClock{}}
	args = append(args[:2:2], append([]string{"--data-dir", dir}, args[2:]...)...)
	code := Run(context.Background(), env, args)
	return code, out.String()
}

func TestUserAndMemberCommands(t *testing.T) {
	dir := t.TempDir()
	steps := []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"user", "add", "--admin", "root"}, "", 0, "password (shown once"},
		{[]string{"user", "add", "--password-stdin", "Zoe\u0308"}, "long-enough-pw\n", 0, `added user "Zoë"`},
		{[]string{"user", "add", "--password-stdin", "ZOË"}, "long-enough-pw\n", 1, "already exists"},
		{[]string{"user", "add", "--password-stdin", "bob"}, "short\n", 1, "at least 8"},
		{[]string{"user", "add", "а\u0062c"}, "", 1, "mixes scripts"},
		{[]string{"user", "add", "--oauth2-subject", "sub-1", "carol"}, "", 0, `added user "carol"`},
		{[]string{"user", "list"}, "", 0, "carol"},
		{[]string{"member", "add", "--project", "nope", "--role", "viewer", "zoë"}, "", 1, "not found"},
		{[]string{"member", "add", "--project", "nope", "--role", "owner", "zoë"}, "", 1, "viewer, editor or admin"},
		{[]string{"user", "passwd", "--password-stdin", "zoë"}, "another-long-pw\n", 0, "sessions have ended"},
		{[]string{"user", "remove", "root"}, "", 1, "last installation admin"},
		{[]string{"user", "remove", "carol"}, "", 0, "removed"},
		{[]string{"user", "frob"}, "", 2, "unknown action"},
	}
	for _, s := range steps {
		code, out := runCLI(t, dir, s.stdin, s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Errorf("mediasign %s = %d %q, want %d with %q", strings.Join(s.args, " "), code, out,
				s.code, s.want)
		}
	}
	_, out := runCLI(t, dir, "", "user", "list")
	if strings.Contains(out, "carol") || !strings.Contains(out, "Zoë") {
		t.Errorf("user list after removal:\n%s", out)
	}
}
