package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// identityTests are the conformance tests of users, sessions, memberships
// and API tokens.
var identityTests = []struct {
	name string
	fn   func(t *testing.T, s mediasign.Store)
}{
	{"Users", testUsers},
	{"LastInstallAdmin", testLastInstallAdmin},
	{"Sessions", testSessions},
	{"PasswordChangeEndsSessions", testPasswordEndsSessions},
	{"DeleteUserCascades", testDeleteUserCascades},
	{"Memberships", testMemberships},
	{"ClaimMemberships", testClaimMemberships},
	{"APITokens", testAPITokens},
	{"LastAdminWhoCanSignIn", testLastAdminWhoCanSignIn},
	{"ClaimRolesFollowTokenTime", testClaimRolesFollowTokenTime},
	{"TokensFollowTheirMakersRole", testTokensFollowMakersRole},
	{"InstallAdminKeepsTokens", testInstallAdminKeepsTokens},
	{"ConnectionGrants", testConnectionGrants},
}

func newUser(t *testing.T, s mediasign.Store, name string, admin bool) *mediasign.User {
	t.Helper()
	u := &mediasign.User{Name: name, NameKey: "key:" + name, PasswordHash: "hash-of-" + name,
		InstallAdmin: admin}
	mustDo(t, s.CreateUser(context.Background(), u))
	if u.ID == 0 || u.CreatedAt.IsZero() {
		t.Fatalf("created user = %+v, want an ID and a time", u)
	}
	return u
}

func testUsers(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	n, err := s.CountUsers(ctx)
	mustDo(t, err)
	if n != 0 {
		t.Fatalf("CountUsers on an empty store = %d", n)
	}

	bob := newUser(t, s, "bob", false)
	alice := newUser(t, s, "Älice", true)
	oidc := &mediasign.User{Name: "carol", NameKey: "key:carol", Subject: "sub|123"}
	mustDo(t, s.CreateUser(ctx, oidc))
	wantCode(t, s.CreateUser(ctx, &mediasign.User{Name: "bob2", NameKey: "key:bob"}),
		mediasign.CodeConflict)
	wantCode(t, s.CreateUser(ctx, &mediasign.User{Name: "x", NameKey: "key:x", Subject: "sub|123"}),
		mediasign.CodeConflict)

	got, err := s.UserByName(ctx, "key:Älice")
	mustDo(t, err)
	if got.ID != alice.ID || !got.InstallAdmin || got.PasswordHash != "hash-of-Älice" ||
		got.Name != "Älice" {
		t.Fatalf("UserByName = %+v, want %+v", got, alice)
	}
	got, err = s.UserBySubject(ctx, "sub|123")
	mustDo(t, err)
	if got.ID != oidc.ID || got.Subject != "sub|123" || got.PasswordHash != "" {
		t.Fatalf("UserBySubject = %+v", got)
	}
	got, err = s.User(ctx, bob.ID)
	mustDo(t, err)
	if got.Subject != "" || got.InstallAdmin {
		t.Fatalf("User(bob) = %+v, want no subject and no admin flag", got)
	}

	list, err := s.ListUsers(ctx)
	mustDo(t, err)
	if len(list) != 3 || list[0].Name != "bob" || list[1].Name != "carol" {
		t.Fatalf("ListUsers = %d users starting %q, want 3 in name key order", len(list), list[0].Name)
	}
	_, err = s.UserByName(ctx, "key:nobody")
	wantCode(t, err, mediasign.CodeNotFound)
	_, err = s.UserBySubject(ctx, "")
	wantCode(t, err, mediasign.CodeNotFound)
	wantCode(t, s.SetPassword(ctx, 424242, "h"), mediasign.CodeNotFound)
}

func testLastInstallAdmin(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	pw := mediasign.SignInPassword
	first := newUser(t, s, "first", true)
	wantCode(t, s.SetInstallAdmin(ctx, first.ID, false, pw), mediasign.CodeConflict)
	wantCode(t, s.DeleteUser(ctx, first.ID, pw), mediasign.CodeConflict)

	second := newUser(t, s, "second", false)
	mustDo(t, s.SetInstallAdmin(ctx, second.ID, true, pw))
	mustDo(t, s.SetInstallAdmin(ctx, first.ID, false, pw))
	wantCode(t, s.DeleteUser(ctx, second.ID, pw), mediasign.CodeConflict)
	mustDo(t, s.DeleteUser(ctx, first.ID, pw))
	wantCode(t, s.DeleteUser(ctx, first.ID, pw), mediasign.CodeNotFound)
	wantCode(t, s.SetInstallAdmin(ctx, first.ID, true, pw), mediasign.CodeNotFound)

	got, err := s.User(ctx, second.ID)
	mustDo(t, err)
	if !got.InstallAdmin {
		t.Fatal("a refused removal changed the remaining admin")
	}
}

func testSessions(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	u := newUser(t, s, "u", false)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	live := &mediasign.Session{IDHash: "h-live", UserID: u.ID, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}
	old := &mediasign.Session{IDHash: "h-old", UserID: u.ID, CreatedAt: now.Add(-2 * time.Hour),
		ExpiresAt: now.Add(-time.Second)}
	mustDo(t, s.CreateSession(ctx, live))
	mustDo(t, s.CreateSession(ctx, old))
	wantCode(t, s.CreateSession(ctx, live), mediasign.CodeConflict)

	got, err := s.Session(ctx, "h-live")
	mustDo(t, err)
	if got.UserID != u.ID || !got.ExpiresAt.Equal(live.ExpiresAt) || !got.CreatedAt.Equal(now) {
		t.Fatalf("Session = %+v, want %+v", got, live)
	}

	n, err := s.DeleteExpiredSessions(ctx, now)
	mustDo(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpiredSessions removed %d, want 1", n)
	}
	_, err = s.Session(ctx, "h-old")
	wantCode(t, err, mediasign.CodeNotFound)

	mustDo(t, s.DeleteSession(ctx, "h-live"))
	mustDo(t, s.DeleteSession(ctx, "h-live"))
	_, err = s.Session(ctx, "h-live")
	wantCode(t, err, mediasign.CodeNotFound)
}

func testPasswordEndsSessions(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	u := newUser(t, s, "u", false)
	other := newUser(t, s, "other", false)
	now := time.Now().UTC()
	for i, id := range []int64{u.ID, u.ID, other.ID} {
		mustDo(t, s.CreateSession(ctx, &mediasign.Session{IDHash: string(rune('a' + i)),
			UserID: id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	}

	mustDo(t, s.SetPassword(ctx, u.ID, "new-hash"))
	got, err := s.User(ctx, u.ID)
	mustDo(t, err)
	if got.PasswordHash != "new-hash" {
		t.Fatalf("password hash = %q, want new-hash", got.PasswordHash)
	}
	for _, h := range []string{"a", "b"} {
		_, err := s.Session(ctx, h)
		wantCode(t, err, mediasign.CodeNotFound)
	}
	_, err = s.Session(ctx, "c")
	mustDo(t, err)
}

func testDeleteUserCascades(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	newUser(t, s, "admin", true)
	u := newUser(t, s, "leaving", false)
	p := &mediasign.Project{Name: "p"}
	mustDo(t, s.CreateProject(ctx, p))
	mustDo(t, s.SetMembership(ctx, &mediasign.Membership{ProjectID: p.ID, UserID: u.ID,
		Role: mediasign.RoleEditor, Source: mediasign.SourceManual}))
	now := time.Now().UTC()
	mustDo(t, s.CreateSession(ctx, &mediasign.Session{IDHash: "s", UserID: u.ID, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}))
	tok := &mediasign.APIToken{ProjectID: p.ID, Name: "ci", Role: mediasign.RoleViewer,
		Prefix: "mst_abcd", Hash: "tokhash", CreatedBy: u.ID}
	mustDo(t, s.CreateAPIToken(ctx, tok))

	other := &mediasign.APIToken{ProjectID: p.ID, Name: "kept", Role: mediasign.RoleViewer,
		Prefix: "mst_efgh", Hash: "kepthash"}
	mustDo(t, s.CreateAPIToken(ctx, other))

	mustDo(t, s.DeleteUser(ctx, u.ID, mediasign.SignInPassword))
	_, err := s.Session(ctx, "s")
	wantCode(t, err, mediasign.CodeNotFound)
	_, err = s.Membership(ctx, p.ID, u.ID)
	wantCode(t, err, mediasign.CodeNotFound)
	_, err = s.APITokenByHash(ctx, "tokhash")
	wantCode(t, err, mediasign.CodeNotFound)
	_, err = s.APITokenByHash(ctx, "kepthash")
	mustDo(t, err)
}

func testMemberships(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	zed, amy := newUser(t, s, "zed", false), newUser(t, s, "amy", false)
	p, q := &mediasign.Project{Name: "beta"}, &mediasign.Project{Name: "alpha"}
	mustDo(t, s.CreateProject(ctx, p))
	mustDo(t, s.CreateProject(ctx, q))

	set := func(proj *mediasign.Project, u *mediasign.User, r mediasign.Role) {
		t.Helper()
		mustDo(t, s.SetMembership(ctx, &mediasign.Membership{ProjectID: proj.ID, UserID: u.ID,
			Role: r, Source: mediasign.SourceManual}))
	}
	set(p, zed, mediasign.RoleViewer)
	set(p, amy, mediasign.RoleAdmin)
	set(q, zed, mediasign.RoleEditor)
	set(p, zed, mediasign.RoleEditor)

	m, err := s.Membership(ctx, p.ID, zed.ID)
	mustDo(t, err)
	if m.Role != mediasign.RoleEditor || m.ProjectName != "beta" || m.UserName != "zed" {
		t.Fatalf("Membership = %+v, want zed as editor of beta", m)
	}
	members, err := s.ListMembers(ctx, p.ID)
	mustDo(t, err)
	if len(members) != 2 || members[0].UserName != "amy" || members[1].UserName != "zed" {
		t.Fatalf("ListMembers = %d members, want amy then zed", len(members))
	}
	mine, err := s.ListUserMemberships(ctx, zed.ID)
	mustDo(t, err)
	if len(mine) != 2 || mine[0].ProjectName != "alpha" || mine[1].Role != mediasign.RoleEditor {
		t.Fatalf("ListUserMemberships = %+v %+v", mine[0], mine[len(mine)-1])
	}

	mustDo(t, s.DeleteMembership(ctx, p.ID, zed.ID))
	wantCode(t, s.DeleteMembership(ctx, p.ID, zed.ID), mediasign.CodeNotFound)
	_, err = s.Membership(ctx, p.ID, zed.ID)
	wantCode(t, err, mediasign.CodeNotFound)
	wantCode(t, s.SetMembership(ctx, &mediasign.Membership{ProjectID: p.ID, UserID: 424242,
		Role: mediasign.RoleViewer, Source: mediasign.SourceManual}), mediasign.CodeNotFound)
}

func testClaimMemberships(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	u := newUser(t, s, "u", false)
	var ps [3]*mediasign.Project
	for i, name := range []string{"a", "b", "c"} {
		ps[i] = &mediasign.Project{Name: name}
		mustDo(t, s.CreateProject(ctx, ps[i]))
	}
	mustDo(t, s.SetMembership(ctx, &mediasign.Membership{ProjectID: ps[2].ID, UserID: u.ID,
		Role: mediasign.RoleViewer, Source: mediasign.SourceManual}))

	tokenTime := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	sync := func(roles map[int64]mediasign.Role) {
		t.Helper()
		tokenTime = tokenTime.Add(time.Minute)
		synced, err := s.SyncClaimMemberships(ctx, u.ID, roles, tokenTime)
		mustDo(t, err)
		if !synced {
			t.Fatalf("a newer token did not sync")
		}
	}
	sync(map[int64]mediasign.Role{
		ps[0].ID: mediasign.RoleAdmin, ps[1].ID: mediasign.RoleViewer, ps[2].ID: mediasign.RoleAdmin})
	wantRoles(t, s, u.ID, "a=admin/claim b=viewer/claim c=viewer/manual")

	sync(map[int64]mediasign.Role{ps[1].ID: mediasign.RoleEditor})
	wantRoles(t, s, u.ID, "b=editor/claim c=viewer/manual")

	sync(nil)
	wantRoles(t, s, u.ID, "c=viewer/manual")
}

func wantRoles(t *testing.T, s mediasign.Store, userID int64, want string) {
	t.Helper()
	list, err := s.ListUserMemberships(context.Background(), userID)
	mustDo(t, err)
	got := ""
	for i, m := range list {
		if i > 0 {
			got += " "
		}
		got += m.ProjectName + "=" + string(m.Role) + "/" + string(m.Source)
	}
	if got != want {
		t.Fatalf("memberships = %q, want %q", got, want)
	}
}

func testAPITokens(t *testing.T, s mediasign.Store) {
	ctx := context.Background()
	u := newUser(t, s, "maker", false)
	p := &mediasign.Project{Name: "p"}
	mustDo(t, s.CreateProject(ctx, p))
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	ci := &mediasign.APIToken{ProjectID: p.ID, Name: "ci", Role: mediasign.RoleEditor,
		Prefix: "mst_ci12", Hash: "hash-ci", CreatedBy: u.ID, ExpiresAt: exp}
	mustDo(t, s.CreateAPIToken(ctx, ci))
	export := &mediasign.APIToken{ProjectID: p.ID, Name: "export", Role: mediasign.RoleViewer,
		Prefix: "mst_ex34", Hash: "hash-export"}
	mustDo(t, s.CreateAPIToken(ctx, export))
	wantCode(t, s.CreateAPIToken(ctx, &mediasign.APIToken{ProjectID: p.ID, Name: "ci",
		Role: mediasign.RoleViewer, Prefix: "x", Hash: "other"}), mediasign.CodeConflict)

	got, err := s.APITokenByHash(ctx, "hash-ci")
	mustDo(t, err)
	if got.ID != ci.ID || got.Role != mediasign.RoleEditor || got.CreatedBy != u.ID ||
		!got.ExpiresAt.Equal(exp) || got.ProjectID != p.ID {
		t.Fatalf("APITokenByHash = %+v, want %+v", got, ci)
	}
	got, err = s.APITokenByHash(ctx, "hash-export")
	mustDo(t, err)
	if !got.ExpiresAt.IsZero() || got.CreatedBy != 0 {
		t.Fatalf("token without expiry or maker = %+v", got)
	}

	list, err := s.ListAPITokens(ctx, p.ID)
	mustDo(t, err)
	if len(list) != 2 || list[0].Name != "ci" || list[1].Name != "export" {
		t.Fatalf("ListAPITokens = %d tokens, want ci and export", len(list))
	}
	wantCode(t, s.DeleteAPIToken(ctx, p.ID+1, ci.ID), mediasign.CodeNotFound)
	mustDo(t, s.DeleteAPIToken(ctx, p.ID, ci.ID))
	_, err = s.APITokenByHash(ctx, "hash-ci")
	wantCode(t, err, mediasign.CodeNotFound)
}
