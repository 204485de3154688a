package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/store/sqlite"
)

// fakeVerifier accepts tokens it was told about.
type fakeVerifier map[string]*auth.ExternalClaims

func (f fakeVerifier) Verify(ctx context.Context, raw string) (*auth.ExternalClaims, error) {
	if c, ok := f[raw]; ok {
		return c, nil
	}
	return nil, &mediasign.Error{Code: mediasign.CodeUnauthorized, Message: "token refused"}
}

func newAuth(t *testing.T, opts auth.Options) (*auth.Authenticator, mediasign.Store, *fakeclock.Clock) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := fakeclock.New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	opts.Store, opts.Clock = st, clock
	opts.Passwords = auth.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1, Concurrent: 2}
	if opts.Mode == "" {
		opts.Mode = auth.ModeSession
	}
	a, err := auth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a, st, clock
}

func withBearer(token string) *http.Request {
	r := httptest.NewRequest("GET", "/api/v1/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func TestOAuth2UsersOnFirstSight(t *testing.T) {
	exp := time.Date(2026, 5, 1, 1, 0, 0, 0, time.UTC)
	v := fakeVerifier{
		"t1": {Subject: "s1", Email: "sam@example.com", EmailVerified: true, Expiry: exp},
		"t2": {Subject: "s2", Email: "sam@example.com", EmailVerified: true, Expiry: exp},
		"t3": {Subject: "s3", Name: "Ann Lee", Expiry: exp},
		"t4": {Subject: "s4", Name: "\u202e", Email: "bad email", Expiry: exp},
		"t5": {Expiry: exp},
	}
	a, st, _ := newAuth(t, auth.Options{Mode: auth.ModeOAuth2, Verifier: v})
	ctx := context.Background()

	want := map[string]string{"t1": "sam@example.com", "t3": "Ann.Lee", "t4": "user-"}
	for token, name := range want {
		c, err := a.Authenticate(withBearer(token))
		if err != nil || !strings.HasPrefix(c.UserName, name) || c.Method != mediasign.AuthOAuth2 ||
			c.Credential != token {
			t.Errorf("token %s: caller %v, %v; want user %s... with the token as credential",
				token, c, err, name)
		}
	}
	c2, err := a.Authenticate(withBearer("t2"))
	if err != nil || !strings.HasPrefix(c2.UserName, "sam@example.com-") {
		t.Errorf("second subject with the same email: %v, %v; want a suffixed name", c2, err)
	}
	again, _ := a.Authenticate(withBearer("t1"))
	if again.UserID == 0 || again.UserID == c2.UserID {
		t.Errorf("a known subject got user %d", again.UserID)
	}
	if _, err := a.Authenticate(withBearer("t5")); mediasign.ErrorCode(err) != mediasign.CodeUnauthorized {
		t.Errorf("token without subject: %v, want unauthorized", err)
	}
	if _, err := a.Authenticate(withBearer("unknown")); mediasign.ErrorCode(err) != mediasign.CodeUnauthorized {
		t.Errorf("refused token: %v, want unauthorized", err)
	}
	if n, _ := st.CountUsers(ctx); n != 4 {
		t.Errorf("%d users, want 4", n)
	}
}

func TestAPITokens(t *testing.T) {
	a, st, clock := newAuth(t, auth.Options{})
	ctx := context.Background()
	p := &mediasign.Project{Name: "p"}
	if err := st.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	users := a.Users()

	tok, raw, err := users.CreateAPIToken(ctx, auth.NewAPIToken{ProjectID: p.ID, Name: "ci",
		Role: mediasign.RoleEditor, ExpiresAt: clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, "mst_") || !strings.HasPrefix(raw, tok.Prefix) ||
		strings.Contains(tok.Hash, raw[4:]) || len(tok.Prefix) >= len(raw)/2 {
		t.Fatalf("token %q with prefix %q and hash %q", raw, tok.Prefix, tok.Hash)
	}

	c, err := a.Authenticate(withBearer(raw))
	if err != nil || c.Method != mediasign.AuthAPIToken || c.TokenProjectID != p.ID ||
		c.TokenRole != mediasign.RoleEditor || c.Credential != "" {
		t.Fatalf("caller %v, %v", c, err)
	}
	if role, _ := a.Role(ctx, c, p.ID); role != mediasign.RoleEditor {
		t.Errorf("role in own project = %q", role)
	}
	if role, _ := a.Role(ctx, c, p.ID+1); role != "" {
		t.Errorf("role in another project = %q, want none", role)
	}

	clock.Advance(time.Hour)
	if _, err := a.Authenticate(withBearer(raw)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired token: %v", err)
	}

	for _, bad := range []auth.NewAPIToken{
		{ProjectID: p.ID, Name: "bad name", Role: mediasign.RoleViewer},
		{ProjectID: p.ID, Name: "x", Role: "owner"},
		{ProjectID: p.ID, Name: "x", Role: mediasign.RoleViewer, ExpiresAt: clock.Now()},
	} {
		if _, _, err := users.CreateAPIToken(ctx, bad); mediasign.ErrorCode(err) != mediasign.CodeInvalid {
			t.Errorf("CreateAPIToken(%+v) = %v, want invalid", bad, err)
		}
	}
	if err := users.RevokeAPIToken(ctx, p.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(withBearer(raw)); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked token: %v", err)
	}
}

func TestFirstAdmin(t *testing.T) {
	a, _, _ := newAuth(t, auth.Options{})
	ctx := context.Background()
	pw, err := a.Users().EnsureFirstAdmin(ctx)
	if err != nil || len(pw) < 20 {
		t.Fatalf("EnsureFirstAdmin = %q, %v", pw, err)
	}
	u, err := a.Users().ByName(ctx, "ADMIN")
	if err != nil || !u.InstallAdmin {
		t.Fatalf("first admin %+v, %v", u, err)
	}
	if again, err := a.Users().EnsureFirstAdmin(ctx); again != "" || err != nil {
		t.Fatalf("second EnsureFirstAdmin = %q, %v; want nothing", again, err)
	}
	if err := a.Users().Remove(ctx, "admin"); mediasign.ErrorCode(err) != mediasign.CodeConflict {
		t.Fatalf("removing the last admin: %v, want conflict", err)
	}
}
