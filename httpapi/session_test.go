package httpapi

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// cookieOnly sends a session cookie value and nothing else.
func cookieOnly(value string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: value}) }
}

func (f *fixture) status(method, path, body string, prepare func(*http.Request)) int {
	f.t.Helper()
	resp, _ := f.do(method, path, body, prepare)
	return resp.StatusCode
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, behindHTTPS := range []bool{false, true} {
		f := newFixture(t, auth.Options{BehindHTTPS: behindHTTPS})
		f.addUser("viewer", mediasign.RoleViewer)
		c := f.login("viewer", "password-1").cookie
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
			c.Secure != behindHTTPS || c.MaxAge != int(auth.DefaultSessionTTL/time.Second) {
			t.Errorf("behind HTTPS %v: cookie %+v, want HttpOnly, SameSite=Lax, Path=/, Secure=%v",
				behindHTTPS, c, behindHTTPS)
		}
	}
}

// TestLoginGivesNewSessionID checks session fixation: whatever session ID
// the browser had, sign-in makes a new one and the old one stops working.
func TestLoginGivesNewSessionID(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	first := f.login("viewer", "password-1")

	resp, body := f.do("POST", "/api/v1/login", `{"username":"viewer","password":"password-1"}`,
		cookieOnly(first.cookie.Value))
	if resp.StatusCode != 200 {
		t.Fatalf("second login = %d %s", resp.StatusCode, body)
	}
	var second string
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			second = c.Value
		}
	}
	if second == "" || second == first.cookie.Value {
		t.Fatalf("login kept the session ID the browser sent")
	}
	if got := f.status("GET", "/api/v1/me", "", cookieOnly(first.cookie.Value)); got != 401 {
		t.Errorf("planted session after login = %d, want 401", got)
	}
	if got := f.status("GET", "/api/v1/me", "", cookieOnly(second)); got != 200 {
		t.Errorf("new session = %d, want 200", got)
	}
}

func TestLogoutEndsSession(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	s := f.login("viewer", "password-1")

	if got := f.status("POST", "/api/v1/logout", "", cookieOnly(s.cookie.Value)); got != 403 {
		t.Fatalf("logout without the CSRF token = %d, want 403", got)
	}
	if got := f.status("GET", "/m/1", "", s.apply); got != 302 {
		t.Fatalf("session after a refused logout = %d, want it alive (302)", got)
	}

	resp, _ := f.do("POST", "/api/v1/logout", "", s.apply)
	if resp.StatusCode != 204 {
		t.Fatalf("logout = %d, want 204", resp.StatusCode)
	}
	if c := resp.Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("logout cookies %+v, want the session cookie cleared", c)
	}
	before := f.storage.calls()
	if got := f.status("GET", "/m/1", "", s.apply); got != 401 {
		t.Errorf("session after logout = %d, want 401", got)
	}
	if f.storage.calls() != before {
		t.Error("a request with an ended session reached the storage")
	}
}

func TestExpiredSessionRefused(t *testing.T) {
	f := newFixture(t, auth.Options{SessionTTL: time.Hour})
	f.addUser("viewer", mediasign.RoleViewer)
	s := f.login("viewer", "password-1")

	f.clock.Advance(time.Hour - time.Second)
	if got := f.status("GET", "/api/v1/me", "", s.apply); got != 200 {
		t.Fatalf("session a second before expiry = %d, want 200", got)
	}
	f.clock.Advance(time.Second)
	resp, body := f.do("GET", "/api/v1/me", "", s.apply)
	if resp.StatusCode != 401 || !strings.Contains(errorOf(t, resp, body).Message, "log in again") {
		t.Fatalf("expired session = %d %s, want 401 asking to log in again", resp.StatusCode, body)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	s := f.login("viewer", "password-1")
	batch := `{"ids":[1]}`
	withHeader := func(k, v string) func(*http.Request) {
		return func(r *http.Request) {
			s.apply(r)
			r.Header.Set(k, v)
		}
	}

	cases := []struct {
		name    string
		prepare func(*http.Request)
		want    int
	}{
		{"cookie without token", cookieOnly(s.cookie.Value), 403},
		{"wrong token", withHeader(auth.CSRFHeader, s.csrf[:len(s.csrf)-2]+"xx"), 403},
		{"token of another session", withHeader(auth.CSRFHeader, f.login("viewer", "password-1").csrf), 403},
		{"cross-site fetch", withHeader("Sec-Fetch-Site", "cross-site"), 403},
		{"foreign origin", withHeader("Origin", "https://evil.example"), 403},
		{"same origin with token", withHeader("Sec-Fetch-Site", "same-origin"), 200},
	}
	for _, c := range cases {
		before := f.storage.calls()
		resp, body := f.do("POST", "/api/v1/media/urls", batch, c.prepare)
		if resp.StatusCode != c.want {
			t.Errorf("%s: = %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
		if c.want == 403 {
			errorOf(t, resp, body)
			if f.storage.calls() != before {
				t.Errorf("%s: refused request reached the storage", c.name)
			}
		}
	}
	if got := f.status("GET", "/m/1", "", cookieOnly(s.cookie.Value)); got != 302 {
		t.Errorf("GET with the cookie alone = %d, want 302: reads need no CSRF token", got)
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t, auth.Options{LoginLimits: auth.LoginLimits{PerUser: rate.Every(time.Minute),
		UserBurst: 3, PerAddress: rate.Every(time.Second), AddressBurst: 8}})
	f.addUser("viewer", mediasign.RoleViewer)
	live := f.login("viewer", "password-1") // takes one of the 3

	wrong := `{"username":"viewer","password":"wrong-password"}`
	for i := 0; i < 2; i++ {
		if got := f.status("POST", "/api/v1/login", wrong, nil); got != 401 {
			t.Fatalf("wrong password %d = %d, want 401", i, got)
		}
	}
	resp, body := f.do("POST", "/api/v1/login", `{"username":"viewer","password":"password-1"}`, nil)
	if resp.StatusCode != 429 || errorOf(t, resp, body).Code != mediasign.CodeRateLimited {
		t.Fatalf("fourth attempt = %d %s, want 429", resp.StatusCode, body)
	}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
		t.Errorf("Retry-After = %q, want 1 to 60 seconds", resp.Header.Get("Retry-After"))
	}
	if got := f.status("GET", "/api/v1/me", "", live.apply); got != 200 {
		t.Errorf("failed attempts changed the live session: %d", got)
	}

	f.clock.Advance(time.Minute)
	f.login("viewer", "password-1")

	// Many user names from one address hit the address limit.
	codes := map[int]int{}
	for i := 0; i < 10; i++ {
		codes[f.status("POST", "/api/v1/login", `{"username":"nobody`+strconv.Itoa(i)+
			`","password":"password-1"}`, nil)]++
	}
	if codes[429] == 0 || codes[401] == 0 {
		t.Errorf("attempts for 10 user names from one address: %v, want 401s then 429s", codes)
	}
}

func TestPasswordChangeAndRemovalEndSessions(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	f.addUser("leaving", mediasign.RoleViewer)
	s := f.login("viewer", "password-1")
	other := f.login("viewer", "password-1")
	gone := f.login("leaving", "password-1")

	body := `{"password":"password-2","current_password":"wrong"}`
	if got := f.status("PUT", "/api/v1/users/viewer/password", body, s.apply); got != 403 {
		t.Fatalf("change with a wrong current password = %d, want 403", got)
	}
	if got := f.status("GET", "/api/v1/me", "", other.apply); got != 200 {
		t.Fatalf("a refused change ended a session: %d", got)
	}
	body = `{"password":"password-2","current_password":"password-1"}`
	if got := f.status("PUT", "/api/v1/users/viewer/password", body, s.apply); got != 204 {
		t.Fatalf("own password change = %d, want 204", got)
	}
	for _, sess := range []session{s, other} {
		if got := f.status("GET", "/api/v1/me", "", sess.apply); got != 401 {
			t.Errorf("session after password change = %d, want 401", got)
		}
	}
	f.login("viewer", "password-2")

	if got := f.status("DELETE", "/api/v1/users/leaving", "", bearer(f.admin)); got != 204 {
		t.Fatalf("remove user = %d", got)
	}
	if got := f.status("GET", "/m/1", "", gone.apply); got != 401 {
		t.Errorf("session of a removed user = %d, want 401", got)
	}
}

// TestOriginMatchesSchemeHostAndPort checks that an Origin counts as this
// service only when its scheme, host and port all match the public URL or
// the request itself; the default port may be left out.
func TestOriginMatchesSchemeHostAndPort(t *testing.T) {
	f := newFixture(t, auth.Options{PublicURL: "http://media.example"})
	f.addUser("viewer", mediasign.RoleViewer)
	s := f.login("viewer", "password-1")
	own := strings.TrimPrefix(f.srv.URL, "http://")

	for _, tc := range []struct {
		origin string
		want   int
	}{
		{f.srv.URL, 200},
		{"http://media.example", 200},
		{"http://MEDIA.example:80", 200},
		{"https://media.example", 403},
		{"http://media.example:8080", 403},
		{"https://" + own, 403},
		{"null", 403},
	} {
		resp, body := f.do("POST", "/api/v1/media/urls", `{"ids":[1]}`, func(r *http.Request) {
			s.apply(r)
			r.Header.Set("Origin", tc.origin)
		})
		if resp.StatusCode != tc.want {
			t.Errorf("Origin %q = %d %s, want %d", tc.origin, resp.StatusCode, body, tc.want)
		}
	}
}

// TestAddressLimitBehindTrustedProxy checks that the per-address sign-in
// limit counts the client that a trusted proxy names, and ignores the
// header when the peer is not a trusted proxy.
func TestAddressLimitBehindTrustedProxy(t *testing.T) {
	limits := auth.LoginLimits{PerUser: rate.Every(time.Second), UserBurst: 100,
		PerAddress: rate.Every(time.Minute), AddressBurst: 2}
	from := func(addr string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("X-Forwarded-For", addr) }
	}
	wrong := `{"username":"viewer","password":"wrong-password"}`

	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		want    int // answer to a third client's first attempt
	}{
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, 401},
		{"no trusted proxy", nil, 429},
		{"another proxy trusted", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, 429},
	} {
		f := newFixture(t, auth.Options{LoginLimits: limits, TrustedProxies: tc.trusted})
		f.addUser("viewer", mediasign.RoleViewer)
		f.status("POST", "/api/v1/login", wrong, from("203.0.113.1"))
		f.status("POST", "/api/v1/login", wrong, from("203.0.113.2"))
		if got := f.status("POST", "/api/v1/login", wrong, from("203.0.113.3")); got != tc.want {
			t.Errorf("%s: third client = %d, want %d", tc.name, got, tc.want)
		}
	}
}
