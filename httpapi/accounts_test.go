package httpapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// createToken makes an API token through the API as the given session and
// returns its secret.
func (f *fixture) createToken(s session, project, name string, role mediasign.Role) string {
	f.t.Helper()
	resp, body := f.do("POST", "/api/v1/projects/"+project+"/tokens",
		`{"name":"`+name+`","role":"`+string(role)+`"}`, s.apply)
	if resp.StatusCode != 201 {
		f.t.Fatalf("create token %s = %d %s", name, resp.StatusCode, body)
	}
	var out struct {
		Token string `json:"token"`
	}
	must(f.t, json.Unmarshal(body, &out))
	return out.Token
}

// TestTokensEndWithTheirMaker checks that API tokens stop working when the
// user who made them is removed, and that a project admin who loses the
// admin role loses the tokens above their new role.
func TestTokensEndWithTheirMaker(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("leaving", mediasign.RoleAdmin)
	f.addUser("demoted", mediasign.RoleAdmin)
	f.addUser("dropped", mediasign.RoleAdmin)
	leaving := f.createToken(f.login("leaving", "password-1"), "p", "by-leaving", mediasign.RoleViewer)
	demoted := f.login("demoted", "password-1")
	adminTok := f.createToken(demoted, "p", "admin-tok", mediasign.RoleAdmin)
	editorTok := f.createToken(demoted, "p", "editor-tok", mediasign.RoleEditor)
	viewerTok := f.createToken(demoted, "p", "viewer-tok", mediasign.RoleViewer)
	droppedTok := f.createToken(f.login("dropped", "password-1"), "p", "by-dropped",
		mediasign.RoleViewer)
	for _, tok := range []string{leaving, adminTok, editorTok, viewerTok, droppedTok} {
		if got := f.status("GET", "/m/1", "", bearer(tok)); got != 302 {
			t.Fatalf("new token: /m/1 = %d, want 302", got)
		}
	}

	if got := f.status("DELETE", "/api/v1/users/leaving", "", bearer(f.admin)); got != 204 {
		t.Fatalf("remove user = %d", got)
	}
	if got := f.status("PUT", "/api/v1/projects/p/members/demoted", `{"role":"editor"}`,
		bearer(f.admin)); got != 200 {
		t.Fatalf("demote = %d", got)
	}
	if got := f.status("DELETE", "/api/v1/projects/p/members/dropped", "", bearer(f.admin)); got != 204 {
		t.Fatalf("remove member = %d", got)
	}

	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"token of a removed user", leaving, 401},
		{"admin token of a demoted admin", adminTok, 401},
		{"editor token of an admin made editor", editorTok, 302},
		{"viewer token of an admin made editor", viewerTok, 302},
		{"token of a removed member", droppedTok, 401},
	} {
		if got := f.status("GET", "/m/1", "", bearer(tc.token)); got != tc.want {
			t.Errorf("%s: /m/1 = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestLastAdminWhoCanSignIn checks that an installation admin without a
// password does not count as the one who keeps the installation
// manageable in session mode.
func TestLastAdminWhoCanSignIn(t *testing.T) {
	f := newFixture(t, auth.Options{})
	ctx := context.Background()
	users := f.auth.Users()
	_, err := users.Add(ctx, auth.NewUser{Name: "root", Password: "password-1", InstallAdmin: true})
	must(t, err)
	_, err = users.Add(ctx, auth.NewUser{Name: "ghost", Subject: "sub-ghost", InstallAdmin: true})
	must(t, err)

	admin := bearer(f.admin)
	unadmin := `{"installation_admin":false}`
	resp, body := f.do("DELETE", "/api/v1/users/root", "", admin)
	if resp.StatusCode != 409 {
		t.Fatalf("remove the last admin with a password = %d %s, want 409", resp.StatusCode, body)
	}
	if got := f.status("PUT", "/api/v1/users/root", unadmin, admin); got != 409 {
		t.Fatalf("unadmin the last admin with a password = %d, want 409", got)
	}
	if got := f.status("DELETE", "/api/v1/users/ghost", "", admin); got != 204 {
		t.Fatalf("remove the admin without a password = %d, want 204", got)
	}

	f.addUser("second", "")
	resp, body = f.do("PUT", "/api/v1/users/SECOND", `{"installation_admin":true}`, admin)
	var u struct {
		Name              string `json:"name"`
		InstallationAdmin bool   `json:"installation_admin"`
	}
	must(t, json.Unmarshal(body, &u))
	if resp.StatusCode != 200 || u.Name != "second" || !u.InstallationAdmin {
		t.Fatalf("make second an admin = %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{`{}`, `{"installation_admin":"yes"}`, `{"name":"x"}`} {
		if got := f.status("PUT", "/api/v1/users/second", bad, admin); got != 400 {
			t.Errorf("PUT user %s = %d, want 400", bad, got)
		}
	}
	if got := f.status("PUT", "/api/v1/users/nobody", unadmin, admin); got != 404 {
		t.Errorf("unadmin a missing user = %d, want 404", got)
	}
	if got := f.status("PUT", "/api/v1/users/root", unadmin, admin); got != 200 {
		t.Fatalf("unadmin root while second signs in = %d, want 200", got)
	}
	if got := f.status("GET", "/api/v1/users", "", f.login("root", "password-1").apply); got != 403 {
		t.Errorf("root after losing the role: list users = %d, want 403", got)
	}
}

// TestOwnPasswordChange checks that guesses of the current password are
// rate-limited like sign-ins, and that installation admins give their
// current password too when they change their own.
func TestOwnPasswordChange(t *testing.T) {
	f := newFixture(t, auth.Options{LoginLimits: auth.LoginLimits{PerUser: rate.Every(time.Minute),
		UserBurst: 3, PerAddress: rate.Every(time.Second), AddressBurst: 100}})
	f.addUser("viewer", mediasign.RoleViewer)
	_, err := f.auth.Users().Add(context.Background(), auth.NewUser{Name: "root",
		Password: "password-1", InstallAdmin: true})
	must(t, err)
	s := f.login("viewer", "password-1")
	root := f.login("root", "password-1")

	wrong := `{"password":"password-2","current_password":"wrong-guess"}`
	codes := map[int]int{}
	for i := 0; i < 5; i++ {
		codes[f.status("PUT", "/api/v1/users/viewer/password", wrong, s.apply)]++
	}
	if codes[429] == 0 || codes[403] == 0 {
		t.Fatalf("5 wrong current passwords: %v, want 403s then 429s", codes)
	}

	for _, body := range []string{`{"password":"password-2"}`,
		`{"password":"password-2","current_password":"wrong-guess"}`} {
		if got := f.status("PUT", "/api/v1/users/root/password", body, root.apply); got < 400 ||
			got >= 500 {
			t.Errorf("admin's own change with %s = %d, want a refusal", body, got)
		}
	}
	if got := f.status("PUT", "/api/v1/users/viewer/password", `{"password":"password-3"}`,
		root.apply); got != 204 {
		t.Errorf("admin setting another user's password = %d, want 204", got)
	}
	if got := f.status("PUT", "/api/v1/users/root/password",
		`{"password":"password-4","current_password":"password-1"}`, root.apply); got != 204 {
		t.Errorf("admin's own change with the current password = %d, want 204", got)
	}
	f.clock.Advance(time.Hour)
	f.login("root", "password-4")
}

// TestSetMemberAnswersStoredMembership checks that PUT members answers the
// membership as stored, with the time it was first made.
func TestSetMemberAnswersStoredMembership(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("victim", "")
	var first, second mediasign.Membership
	for i, dst := range []*mediasign.Membership{&first, &second} {
		role := []string{"viewer", "editor"}[i]
		resp, body := f.do("PUT", "/api/v1/projects/p/members/victim", `{"role":"`+role+`"}`,
			bearer(f.admin))
		if resp.StatusCode != 200 {
			t.Fatalf("set member = %d %s", resp.StatusCode, body)
		}
		must(t, json.Unmarshal(body, dst))
		f.clock.Advance(time.Hour)
	}
	if first.CreatedAt.IsZero() || !second.CreatedAt.Equal(first.CreatedAt) ||
		second.Role != mediasign.RoleEditor || second.UserName != "victim" || second.ProjectName != "p" {
		t.Fatalf("answers %+v then %+v, want the stored membership with its first time", first, second)
	}
}
