package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// testLastAdminWhoCanSignIn checks that the guard on the last installation
// admin counts only admins who can sign in the way the installation signs
// people in.
func testLastAdminWhoCanSignIn(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	withPassword := newUser(t, s, "with-password", true)
	withSubject := &mediasign.User{Name: "with-subject", NameKey: "key:with-subject",
		Subject: "sub|admin", InstallAdmin: true}
	mustDo(t, s.CreateUser(ctx, withSubject))

	pw, oauth2 := mediasign.SignInPassword, mediasign.SignInOAuth2
	wantCode(t, s.DeleteUser(ctx, withPassword.ID, pw), mediasign.CodeConflict)
	wantCode(t, s.SetInstallAdmin(ctx, withPassword.ID, false, pw), mediasign.CodeConflict)
	wantCode(t, s.DeleteUser(ctx, withSubject.ID, oauth2), mediasign.CodeConflict)
	wantCode(t, s.SetInstallAdmin(ctx, withSubject.ID, false, oauth2), mediasign.CodeConflict)

	// Each may lose the flag while the other one signs in.
	mustDo(t, s.SetInstallAdmin(ctx, withPassword.ID, false, oauth2))
	mustDo(t, s.SetInstallAdmin(ctx, withPassword.ID, true, oauth2))
	mustDo(t, s.SetInstallAdmin(ctx, withSubject.ID, false, pw))
	for _, u := range []*mediasign.User{withPassword, withSubject} {
		got, err := s.User(ctx, u.ID)
		mustDo(t, err)
		if got.InstallAdmin != (u == withPassword) {
			t.Fatalf("user %s: installation admin %v after the changes", u.Name, got.InstallAdmin)
		}
	}
}

// testClaimRolesFollowTokenTime checks that only a token newer than the last
// one applied changes claim memberships.
func testClaimRolesFollowTokenTime(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	u := newUser(t, s, "u", false)
	p := &mediasign.Project{Name: "p"}
	mustDo(t, s.CreateProject(ctx, p))
	admin := map[int64]mediasign.Role{p.ID: mediasign.RoleAdmin}
	viewer := map[int64]mediasign.Role{p.ID: mediasign.RoleViewer}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	for _, step := range []struct {
		roles map[int64]mediasign.Role
		at    time.Time
		want  bool
		after string
	}{
		{admin, time.Time{}, false, ""},
		{admin, t0, true, "p=admin/claim"},
		{viewer, t0.Add(time.Minute), true, "p=viewer/claim"},
		{admin, t0.Add(30 * time.Second), false, "p=viewer/claim"},
		{admin, t0.Add(time.Minute), false, "p=viewer/claim"},
		{admin, t0.Add(2 * time.Minute), true, "p=admin/claim"},
	} {
		synced, err := s.SyncClaimMemberships(ctx, u.ID, step.roles, step.at)
		mustDo(t, err)
		if synced != step.want {
			t.Fatalf("sync with a token of %v = %v, want %v", step.at, synced, step.want)
		}
		wantRoles(t, s, u.ID, step.after)
	}
	got, err := s.User(ctx, u.ID)
	mustDo(t, err)
	if !got.RolesTokenTime.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("RolesTokenTime = %v, want %v", got.RolesTokenTime, t0.Add(2*time.Minute))
	}
}

// testTokensFollowMakersRole checks that a user who loses a role in a
// project loses the API tokens they made there above their new role.
func testTokensFollowMakersRole(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	u := newUser(t, s, "maker", false)
	p, q := &mediasign.Project{Name: "p"}, &mediasign.Project{Name: "q"}
	mustDo(t, s.CreateProject(ctx, p))
	mustDo(t, s.CreateProject(ctx, q))
	set := func(proj *mediasign.Project, r mediasign.Role) {
		t.Helper()
		mustDo(t, s.SetMembership(ctx, &mediasign.Membership{ProjectID: proj.ID, UserID: u.ID,
			Role: r, Source: mediasign.SourceManual}))
	}
	set(p, mediasign.RoleAdmin)
	set(q, mediasign.RoleAdmin)
	for _, proj := range []*mediasign.Project{p, q} {
		for _, r := range []mediasign.Role{mediasign.RoleViewer, mediasign.RoleEditor, mediasign.RoleAdmin} {
			mustDo(t, s.CreateAPIToken(ctx, &mediasign.APIToken{ProjectID: proj.ID,
				Name: string(r), Role: r, Prefix: "mst_x", Hash: proj.Name + "-" + string(r),
				CreatedBy: u.ID}))
		}
	}
	mustDo(t, s.CreateAPIToken(ctx, &mediasign.APIToken{ProjectID: p.ID, Name: "other-maker",
		Role: mediasign.RoleAdmin, Prefix: "mst_y", Hash: "p-other"}))

	set(p, mediasign.RoleEditor)
	wantTokens(t, s, p, "editor other-maker viewer")
	wantTokens(t, s, q, "admin editor viewer")

	set(p, mediasign.RoleAdmin)
	wantTokens(t, s, p, "editor other-maker viewer")

	mustDo(t, s.DeleteMembership(ctx, p.ID, u.ID))
	wantTokens(t, s, p, "other-maker")

	synced, err := s.SyncClaimMemberships(ctx, u.ID, map[int64]mediasign.Role{q.ID: mediasign.RoleViewer},
		time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	mustDo(t, err)
	if !synced {
		t.Fatal("claim sync did not run")
	}
	wantTokens(t, s, q, "admin editor viewer") // the manual admin role wins over the claim
	mustDo(t, s.DeleteMembership(ctx, q.ID, u.ID))
	synced, err = s.SyncClaimMemberships(ctx, u.ID, map[int64]mediasign.Role{q.ID: mediasign.RoleViewer},
		time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC))
	mustDo(t, err)
	if !synced {
		t.Fatal("claim sync did not run")
	}
	wantTokens(t, s, q, "")
}

// testInstallAdminKeepsTokens checks that an installation admin keeps the
// tokens they made while they stay one, and loses those above their role
// when the flag goes.
func testInstallAdminKeepsTokens(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	newUser(t, s, "other-admin", true)
	u := newUser(t, s, "admin", true)
	p := &mediasign.Project{Name: "p"}
	mustDo(t, s.CreateProject(ctx, p))
	for _, r := range []mediasign.Role{mediasign.RoleViewer, mediasign.RoleAdmin} {
		mustDo(t, s.CreateAPIToken(ctx, &mediasign.APIToken{ProjectID: p.ID, Name: string(r),
			Role: r, Prefix: "mst_x", Hash: "h-" + string(r), CreatedBy: u.ID}))
	}
	mustDo(t, s.SetMembership(ctx, &mediasign.Membership{ProjectID: p.ID, UserID: u.ID,
		Role: mediasign.RoleViewer, Source: mediasign.SourceManual}))
	wantTokens(t, s, p, "admin viewer")

	mustDo(t, s.SetInstallAdmin(ctx, u.ID, false, mediasign.SignInPassword))
	wantTokens(t, s, p, "viewer")
}

func wantTokens(t *testing.T, s mediasign.Store, p *mediasign.Project, want string) {
	t.Helper()
	list, err := s.ListAPITokens(context.Background(), p.ID)
	mustDo(t, err)
	got := ""
	for i, tok := range list {
		if i > 0 {
			got += " "
		}
		got += tok.Name
	}
	if got != want {
		t.Fatalf("tokens of project %s = %q, want %q", p.Name, got, want)
	}
}

// testConnectionGrants checks granting, listing and revoking connections.
func testConnectionGrants(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	c := &mediasign.Connection{Name: "disk", Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: "/srv/media"}}
	mustDo(t, s.CreateConnection(ctx, c))
	var ps [3]*mediasign.Project
	for i, name := range []string{"zeta", "alpha", "mid"} {
		ps[i] = &mediasign.Project{Name: name}
		mustDo(t, s.CreateProject(ctx, ps[i]))
	}

	mustDo(t, s.GrantConnection(ctx, c.ID, ps[0].ID))
	mustDo(t, s.GrantConnection(ctx, c.ID, ps[1].ID))
	mustDo(t, s.GrantConnection(ctx, c.ID, ps[0].ID))
	wantCode(t, s.GrantConnection(ctx, c.ID, 424242), mediasign.CodeNotFound)
	wantCode(t, s.GrantConnection(ctx, 424242, ps[0].ID), mediasign.CodeNotFound)

	for i, want := range []bool{true, true, false} {
		got, err := s.ConnectionGranted(ctx, c.ID, ps[i].ID)
		mustDo(t, err)
		if got != want {
			t.Fatalf("ConnectionGranted(%s) = %v, want %v", ps[i].Name, got, want)
		}
	}
	list, err := s.ListConnectionGrants(ctx, c.ID)
	mustDo(t, err)
	if len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "zeta" || list[0].ID != ps[1].ID {
		t.Fatalf("ListConnectionGrants = %d projects, want alpha and zeta", len(list))
	}

	mustDo(t, s.RevokeConnection(ctx, c.ID, ps[0].ID))
	wantCode(t, s.RevokeConnection(ctx, c.ID, ps[0].ID), mediasign.CodeNotFound)
	if got, err := s.ConnectionGranted(ctx, c.ID, ps[0].ID); err != nil || got {
		t.Fatalf("after revoke: granted %v, %v", got, err)
	}
	list, err = s.ListConnectionGrants(ctx, c.ID)
	mustDo(t, err)
	if len(list) != 1 || list[0].Name != "alpha" {
		t.Fatalf("after revoke: %d grants, want alpha only", len(list))
	}
}
