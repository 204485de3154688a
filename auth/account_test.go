package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// TestCallersCarryTheirAccountTag checks that session and OAuth2 callers
// carry the tag that tells their account apart from a later one with the
// same id.
func TestCallersCarryTheirAccountTag(t *testing.T) {
	ctx := context.Background()
	a, st, _ := newAuth(t, auth.Options{})
	u, err := a.Users().Add(ctx, auth.NewUser{Name: "ann", Password: "password-1"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if _, err := a.Login(w, httptest.NewRequest("POST", "/api/v1/login", nil), "ann",
		"password-1"); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/v1/me", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	stored, err := st.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Authenticate(r)
	if err != nil || c.Account == "" || c.Account != mediasign.AccountTag(stored) {
		t.Fatalf("session caller %v (account %q), %v; want account %q", c, c.Account, err,
			mediasign.AccountTag(stored))
	}

	exp := time.Date(2026, 5, 1, 1, 0, 0, 0, time.UTC)
	o, st2, _ := newAuth(t, auth.Options{Mode: auth.ModeOAuth2,
		Verifier: fakeVerifier{"t1": {Subject: "s1", Name: "Bo", Expiry: exp}}})
	oc, err := o.Authenticate(withBearer("t1"))
	if err != nil {
		t.Fatal(err)
	}
	ou, err := st2.User(ctx, oc.UserID)
	if err != nil || oc.Account == "" || oc.Account != mediasign.AccountTag(ou) {
		t.Fatalf("oauth2 caller account %q, %v; want %q", oc.Account, err, mediasign.AccountTag(ou))
	}
}
