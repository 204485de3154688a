package customsigner_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	cst "github.com/mediasign/mediasign/customsigner/customsignertest"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/urlcache"
)

// scopeFixture is a stack with one media file on a signer connection and
// the viewers ann and bob.
type scopeFixture struct {
	stack  *cst.Stack
	signer *cst.Signer
	path   string
	ann    cst.Session
	bob    cst.Session
}

func newScopeFixture(t *testing.T, opts cst.Options, cfg mediasign.SignerConfig) *scopeFixture {
	t.Helper()
	clock := opts.Clock
	if clock == nil {
		clock = mediasign.SystemClock{}
	}
	s := cst.NewStack(t, opts)
	signer := cst.NewSigner(t, cst.Signs(clock))
	cfg.URL = signer.URL
	conn := s.AddConnection("media", cst.DummyS3(), &cfg)
	_, ids := s.AddMedia("p", conn, "b", "a.jpg")
	s.AddUser("ann", "", "p", mediasign.RoleViewer)
	s.AddUser("bob", "", "p", mediasign.RoleViewer)
	return &scopeFixture{stack: s, signer: signer, ann: s.Login("ann"), bob: s.Login("bob"),
		path: "/api/v1/media/" + strconv.FormatInt(ids[0], 10) + "/url"}
}

func (f *scopeFixture) url(t *testing.T, who cst.Session) cst.URLAnswer {
	t.Helper()
	resp, body := f.stack.Do("GET", f.path, "", who.Apply)
	var a cst.URLAnswer
	if err := json.Unmarshal(body, &a); err != nil || resp.StatusCode != 200 {
		t.Fatalf("url = %d %s", resp.StatusCode, body)
	}
	return a
}

// TestPerUserCacheNeverServesAnotherUser checks that on a per-user
// connection user B never gets the URL signed for user A, while each user's
// own URL is cached.
func TestPerUserCacheNeverServesAnotherUser(t *testing.T) {
	f := newScopeFixture(t, cst.Options{}, mediasign.SignerConfig{})

	a1 := f.url(t, f.ann)
	b1 := f.url(t, f.bob)
	if a1.URL == b1.URL {
		t.Fatalf("bob got ann's URL %s", a1.URL)
	}
	a2, b2 := f.url(t, f.ann), f.url(t, f.bob)
	if a2.URL != a1.URL || b2.URL != b1.URL {
		t.Fatalf("cached URLs changed: ann %s -> %s, bob %s -> %s", a1.URL, a2.URL, b1.URL, b2.URL)
	}
	if got := f.signer.Calls(); got != 2 {
		t.Fatalf("signer calls %d, want one per user", got)
	}

	// Each call carried the caller's own session cookie.
	for i, want := range []string{f.ann.ID, f.bob.ID} {
		c := f.signer.Requests()[i].Header.Get("Cookie")
		if c != "mediasign_session="+want {
			t.Errorf("call %d carried cookie %q, want the caller's session", i, c)
		}
	}
}

func TestSharedScopeServesEveryone(t *testing.T) {
	f := newScopeFixture(t, cst.Options{},
		mediasign.SignerConfig{CacheScope: mediasign.SignerScopeShared})
	a, b := f.url(t, f.ann), f.url(t, f.bob)
	if a.URL != b.URL || f.signer.Calls() != 1 {
		t.Fatalf("shared scope: ann %s, bob %s, %d calls; want one URL and one call", a.URL, b.URL,
			f.signer.Calls())
	}
}

// TestStaleIfError lets the signer fail once a cached URL has fallen below
// M: the URL is served, marked stale, while it has a minute left; the entry
// is never replaced by the failure; and a healed signer signs anew.
func TestStaleIfError(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	policy := urlcache.Policy{MinValid: 1000 * time.Second, NewValid: 3000 * time.Second}
	f := newScopeFixture(t, cst.Options{Clock: clock, Policy: policy}, mediasign.SignerConfig{})

	first := f.url(t, f.ann)
	if first.Stale {
		t.Fatal("a new URL is marked stale")
	}
	clock.Advance(2500 * time.Second) // 500 s left: below M, still valid
	f.signer.Set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })

	stale := f.url(t, f.ann)
	if !stale.Stale || stale.URL != first.URL || stale.ExpiresAt != first.ExpiresAt {
		t.Fatalf("signer down below M: got %+v, want the cached URL marked stale", stale)
	}
	redirect, _ := f.stack.Do("GET", strings.Replace(strings.TrimSuffix(f.path, "/url"),
		"/api/v1/media/", "/m/", 1), "", f.ann.Apply)
	if redirect.StatusCode != 302 || redirect.Header.Get("X-Mediasign-Stale") != "true" ||
		redirect.Header.Get("Cache-Control") != "no-store" || redirect.Header.Get("Location") != first.URL {
		t.Fatalf("stale redirect: %d %v", redirect.StatusCode, redirect.Header)
	}
	resp, _ := f.stack.Do("GET", f.path, "", f.bob.Apply)
	if resp.StatusCode != 502 {
		t.Fatalf("bob, who has no cached URL, got %d, want 502", resp.StatusCode)
	}

	clock.Advance(450 * time.Second) // 50 s left: too little to hand out
	resp, body := f.stack.Do("GET", f.path, "", f.ann.Apply)
	if resp.StatusCode != 502 {
		t.Fatalf("with 50 s left: %d %s, want 502", resp.StatusCode, body)
	}
	if n := len(f.stack.Store.CacheWrites()); n != 1 {
		t.Fatalf("%d cache writes, want only the first URL", n)
	}

	f.signer.Set(cst.Signs(clock))
	if fresh := f.url(t, f.ann); fresh.Stale || fresh.URL == "" {
		t.Fatalf("healed signer: %+v", fresh)
	}
}

// TestRefusalIsNeverServedStale checks that a signer that refuses a user
// is obeyed even when a cached URL below M exists.
func TestRefusalIsNeverServedStale(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	policy := urlcache.Policy{MinValid: 1000 * time.Second, NewValid: 3000 * time.Second}
	f := newScopeFixture(t, cst.Options{Clock: clock, Policy: policy}, mediasign.SignerConfig{})
	f.url(t, f.ann)
	clock.Advance(2500 * time.Second)
	f.signer.Set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) })

	if resp, body := f.stack.Do("GET", f.path, "", f.ann.Apply); resp.StatusCode != 403 {
		t.Fatalf("refused below M: %d %s, want 403", resp.StatusCode, body)
	}
}

// TestAPITokensUseTheServiceToken checks that a caller without a user is
// signed for with the connection's service token, and refused without one.
func TestAPITokensUseTheServiceToken(t *testing.T) {
	for _, token := range []string{"", serviceToken} {
		f := newScopeFixture(t, cst.Options{}, mediasign.SignerConfig{ServiceToken: token})
		p, err := f.stack.Store.ProjectByName(t.Context(), "p")
		if err != nil {
			t.Fatal(err)
		}
		_, raw, err := f.stack.Auth.Users().CreateAPIToken(t.Context(), apiToken(p.ID))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := f.stack.Do("GET", f.path, "", cst.Bearer(raw))
		if token == "" {
			if resp.StatusCode != 403 || f.signer.Calls() != 0 {
				t.Fatalf("no service token: %d %s after %d calls, want 403 and none", resp.StatusCode,
					body, f.signer.Calls())
			}
			continue
		}
		if resp.StatusCode != 200 {
			t.Fatalf("service token: %d %s", resp.StatusCode, body)
		}
		if got := f.signer.Requests()[0].Header.Get("Authorization"); got != "Bearer "+serviceToken {
			t.Fatalf("signer got Authorization %q, want the service token", got)
		}
		f.stack.Logs.MustNotHold(t, serviceToken, raw)
	}
}

// TestSignerRefusalsAreNotFailures checks that a signer's 400 and 404 reach
// the caller as 400 and 404, are never answered with a stale URL and never
// open the breaker, while 429 stays a failure with its own message.
func TestSignerRefusalsAreNotFailures(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	policy := urlcache.Policy{MinValid: 1000 * time.Second, NewValid: 3000 * time.Second}
	f := newScopeFixture(t, cst.Options{Clock: clock, Policy: policy}, mediasign.SignerConfig{})
	first := f.url(t, f.ann)
	clock.Advance(2500 * time.Second) // below M: a failure would serve the URL stale

	for _, tc := range []struct {
		status int
		want   int
		msg    string
	}{
		{400, 400, "refused this request as malformed"},
		{404, 404, "knows no such object"},
		{429, 502, "too many requests"},
	} {
		f.signer.Set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.status) })
		who := f.ann
		if tc.status == 429 {
			who = f.bob // ann's cached URL would be served stale, rightly
		}
		for range 7 { // more than the breaker's threshold
			resp, body := f.stack.Do("GET", f.path, "", who.Apply)
			if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.msg) ||
				strings.Contains(string(body), first.URL) {
				t.Fatalf("signer %d: got %d %s, want %d saying %q", tc.status, resp.StatusCode,
					body, tc.want, tc.msg)
			}
		}
		if tc.status == 429 {
			break
		}
		f.signer.Set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
		before := f.signer.Calls()
		f.stack.Do("GET", f.path, "", f.ann.Apply)
		if f.signer.Calls() == before {
			t.Fatalf("after %d answers the breaker stopped asking the signer", tc.status)
		}
	}
}

// TestReusedUserIDGetsNoOldURL removes a user and makes a new one with the
// same name, which gets the same id: the new account never receives a URL
// the signer made for the old one.
func TestReusedUserIDGetsNoOldURL(t *testing.T) {
	f := newScopeFixture(t, cst.Options{}, mediasign.SignerConfig{})
	old, err := f.stack.Auth.Users().ByName(context.Background(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	first := f.url(t, f.bob)

	if err := f.stack.Auth.Users().Remove(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	again := f.stack.AddUser("bob", "", "p", mediasign.RoleViewer)
	if again.ID != old.ID {
		t.Skipf("the store gave the new user id %d, not the old %d, so no id is reused "+
			"here; TestUserScopeTellsAccountsApart covers reuse", again.ID, old.ID)
	}
	calls := f.signer.Calls()
	second := f.url(t, f.stack.Login("bob"))
	if second.URL == first.URL || f.signer.Calls() != calls+1 {
		t.Fatalf("the new bob got %s (signer calls %d -> %d); the old bob's URL was %s",
			second.URL, calls, f.signer.Calls(), first.URL)
	}
}
