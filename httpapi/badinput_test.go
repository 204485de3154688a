package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// TestLoginBadInput sends malformed sign-ins: each gets a clear 4xx JSON
// answer, and none changes the account or its session.
func TestLoginBadInput(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	live := f.login("viewer", "password-1")

	huge := strings.Repeat("a", 100_000)
	cases := []struct {
		name, body string
		status     int
		mention    string
	}{
		{"empty user name", `{"username":"","password":"password-1"}`, 400, "user name is empty"},
		{"huge user name", `{"username":"` + huge + `","password":"x"}`, 400, "longer than 64"},
		{"65 characters", `{"username":"` + strings.Repeat("é", 65) + `","password":"x"}`, 400, "65 characters"},
		{"empty password", `{"username":"viewer","password":""}`, 400, "password is empty"},
		{"huge password", `{"username":"viewer","password":"` + huge + `"}`, 400, "longer than 1024"},
		{"space in name", `{"username":"view er","password":"password-1"}`, 400, "U+0020"},
		{"mixed scripts", `{"username":"аdmin","password":"password-1"}`, 400, "mixes scripts"},
		{"direction override", `{"username":"abc\u202egpj","password":"password-1"}`, 400, "U+202E"},
		{"unknown user", `{"username":"nobody","password":"password-1"}`, 401, "wrong user name or password"},
		{"wrong password", `{"username":"viewer","password":"password-2"}`, 401, "wrong user name or password"},
		{"not JSON", `username=viewer`, 400, "JSON"},
		{"unknown field", `{"user":"viewer"}`, 400, "unknown field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := f.do("POST", "/api/v1/login", c.body, nil)
			e := errorOf(t, resp, body)
			if resp.StatusCode != c.status || !strings.Contains(e.Message, c.mention) {
				t.Fatalf("= %d %q, want %d mentioning %q", resp.StatusCode, e.Message, c.status, c.mention)
			}
		})
	}
	if got := f.status("GET", "/api/v1/me", "", live.apply); got != 200 {
		t.Fatalf("bad sign-ins changed the live session: %d", got)
	}
	f.login("viewer", "password-1")
}

// TestMalformedCredentials sends broken cookies and Authorization headers.
func TestMalformedCredentials(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	good := f.login("viewer", "password-1")
	header := func(values ...string) func(*http.Request) {
		return func(r *http.Request) {
			for _, v := range values {
				r.Header.Add("Authorization", v)
			}
		}
	}
	rawCookie := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Cookie", v) }
	}
	unknownToken := auth.APITokenPrefix + strings.Repeat("A", 43)

	cases := []struct {
		name    string
		prepare func(*http.Request)
		mention string
	}{
		{"short cookie", cookieOnly("abc"), "malformed"},
		{"cookie of unknown session", cookieOnly(strings.Repeat("x", 43)), "log in again"},
		{"two session cookies", rawCookie(auth.SessionCookie + "=" + good.cookie.Value + "; " +
			auth.SessionCookie + "=" + good.cookie.Value), "2 session cookies"},
		{"cookie with bad bytes", rawCookie(auth.SessionCookie + "=\"a b\\\""), "sign in"},
		{"empty bearer", header("Bearer"), "malformed Authorization"},
		{"bearer and space", header("Bearer "), "malformed Authorization"},
		{"basic auth", header("Basic dmlld2VyOnBhc3N3b3JkLTE="), "Bearer"},
		{"two tokens", header("Bearer a b"), "malformed"},
		{"two headers", header("Bearer "+f.admin, "Bearer "+f.admin), "2 Authorization headers"},
		{"huge header", header("Bearer " + strings.Repeat("x", 70_000)), "longer than"},
		{"short API token", header("Bearer mst_abc"), "malformed"},
		{"unknown API token", header("Bearer " + unknownToken), "revoked"},
		{"random bearer", header("Bearer eyJhbGciOiJub25lIn0.e30."), "not valid"},
		{"header wins over cookie", func(r *http.Request) {
			good.apply(r)
			r.Header.Set("Authorization", "Bearer nope")
		}, "not valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.storage.calls()
			resp, body := f.do("GET", "/m/1", "", c.prepare)
			e := errorOf(t, resp, body)
			if resp.StatusCode != 401 || e.Code != mediasign.CodeUnauthorized ||
				!strings.Contains(e.Message, c.mention) {
				t.Fatalf("= %d %+v, want 401 mentioning %q", resp.StatusCode, e, c.mention)
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if f.storage.calls() != before {
				t.Error("the request reached the storage")
			}
		})
	}
}

// TestUnicodeUserNames checks that names are stored in NFC and that names
// differing only in case, width or normalization cannot coexist.
func TestUnicodeUserNames(t *testing.T) {
	f := newFixture(t, auth.Options{})
	add := func(name string) int {
		return f.status("POST", "/api/v1/users",
			`{"name":`+quote(name)+`,"password":"password-1"}`, bearer(f.admin))
	}
	if got := add("Zoe\u0308"); got != 201 {
		t.Fatalf("add decomposed Zoë = %d", got)
	}
	u, err := f.auth.Users().ByName(context.Background(), "zoë")
	must(t, err)
	if u.Name != "Zo\u00eb" {
		t.Fatalf("stored name %q, want the NFC form %q", u.Name, "Zo\u00eb")
	}
	for _, same := range []string{"Zo\u00eb", "ZOË", "ｚｏë"} {
		if got := add(same); got != 409 {
			t.Errorf("add %q = %d, want 409: it is the same name", same, got)
		}
	}
	for _, ok := range []string{"山田太郎", "yamada山田", "Ólafur", "ñandú", "user@example.com"} {
		if got := add(ok); got != 201 {
			t.Errorf("add %q = %d, want 201", ok, got)
		}
	}
	f.login("ZOE\u0308", "password-1")
}
