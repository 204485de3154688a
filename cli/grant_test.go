package cli

import (
	"strings"
	"testing"
)

// TestAdminAndGrantCommands runs user admin|unadmin and connection
// grant|revoke against one data directory.
func TestAdminAndGrantCommands(t *testing.T) {
	dir, media := t.TempDir(), t.TempDir()
	steps := []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"user", "add", "--admin", "root"}, "", 0, "added user"},
		{[]string{"user", "add", "--password-stdin", "bob"}, "long-enough-pw\n", 0, "added user"},
		{[]string{"user", "add", "--admin", "--oauth2-subject", "sub-c", "carol"}, "", 0, "added user"},
		{[]string{"user", "admin", "BOB"}, "", 0, `"bob" is an installation admin`},
		{[]string{"user", "unadmin", "root"}, "", 0, "no longer an installation admin"},
		{[]string{"user", "unadmin", "bob"}, "", 1, "last installation admin who can sign in"},
		{[]string{"user", "remove", "bob"}, "", 1, "last installation admin who can sign in"},
		{[]string{"user", "unadmin", "carol"}, "", 0, "no longer an installation admin"},
		{[]string{"user", "admin", "nobody"}, "", 1, "not found"},
		{[]string{"user", "admin"}, "", 2, "expected the user name"},

		{[]string{"connection", "add", "--provider", "local", "--root", media, "disk"}, "", 0, "added"},
		{[]string{"import", "--connection=disk", "--project", "vision", "--dataset", "d"}, "", 0, ""},
		{[]string{"connection", "grant", "--project", "vision", "disk"}, "", 0,
			`admins of project "vision" may import from connection "disk"`},
		{[]string{"connection", "grant", "--project", "vision", "disk"}, "", 0, "may import"},
		{[]string{"connection", "list"}, "", 0, "GRANTED TO"},
		{[]string{"connection", "list", "--json"}, "", 0, `"projects": [
      "vision"
    ]`},
		{[]string{"connection", "grant", "--project", "nope", "disk"}, "", 1, `project "nope" not found`},
		{[]string{"connection", "grant", "--project", "vision", "nope"}, "", 1,
			`connection "nope" not found`},
		{[]string{"connection", "grant", "disk"}, "", 1, "--project is required"},
		{[]string{"connection", "revoke", "--project", "vision", "disk"}, "", 0, "may no longer import"},
		{[]string{"connection", "revoke", "--project", "vision", "disk"}, "", 1, "is not granted"},
		{[]string{"connection", "frob"}, "", 2, "grant|revoke"},
	}
	for _, s := range steps {
		code, out := runCLI(t, dir, s.stdin, s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Errorf("mediasign %s = %d %q, want %d with %q", strings.Join(s.args, " "), code, out,
				s.code, s.want)
		}
	}
}
