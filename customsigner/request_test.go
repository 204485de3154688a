package customsigner

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

func TestSignURLEncodesEveryByte(t *testing.T) {
	for _, tc := range []struct {
		key, want string
	}{
		{"a.jpg", "https://s.test/sign/b-1/?key=a.jpg&method=get"},
		{"my clip.png", "https://s.test/sign/b-1/?key=my%20clip.png&method=get"},
		{"libstdc++.png", "https://s.test/sign/b-1/?key=libstdc%2B%2B.png&method=get"},
		{"a/b#1?&=.png", "https://s.test/sign/b-1/?key=a%2Fb%231%3F%26%3D.png&method=get"},
		{"café", "https://s.test/sign/b-1/?key=caf%C3%A9&method=get"},
		{"100%", "https://s.test/sign/b-1/?key=100%25&method=get"},
	} {
		got := signURL("https://s.test/sign", "b-1", tc.key, mediasign.MethodGet, 0)
		if got != tc.want {
			t.Errorf("key %q: %s, want %s", tc.key, got, tc.want)
		}
		u, err := url.Parse(got)
		if err != nil || u.Query().Get("key") != tc.key {
			t.Errorf("key %q does not decode back from %s (%v)", tc.key, got, err)
		}
	}
	if got := signURL("http://s", "b", "k", mediasign.MethodPut, 0); got != "http://s/b/?key=k&method=put" {
		t.Errorf("put URL = %s", got)
	}
	got := signURL("http://s", "b", "k", mediasign.MethodPut, 3600*time.Second+time.Millisecond)
	if got != "http://s/b/?key=k&method=put&expires=3600" {
		t.Errorf("put URL with a validity = %s", got)
	}
	if got := batchURL("http://s", "b", mediasign.MethodGet, time.Hour); got != "http://s/b/?method=get&expires=3600" {
		t.Errorf("batch URL with a validity = %s", got)
	}
}

func TestIdentityPerForwardMode(t *testing.T) {
	session := mediasign.Caller{UserID: 7, UserName: "ann", Method: mediasign.AuthSession,
		Credential: "sess-id-1"}
	jwt := mediasign.Caller{UserID: 8, UserName: "bo", Method: mediasign.AuthOAuth2,
		Credential: "h.p.s"}
	token := mediasign.Caller{Method: mediasign.AuthAPIToken, TokenProjectID: 1,
		TokenRole: mediasign.RoleViewer}

	for _, tc := range []struct {
		name          string
		caller        *mediasign.Caller
		forward       string
		serviceToken  string
		header, value string
		scope         string
		code          mediasign.Code
	}{
		{"session auto", &session, "", "", "Cookie", "mediasign_session=sess-id-1", "u7", ""},
		{"jwt auto", &jwt, "", "", "Authorization", "Bearer h.p.s", "u8", ""},
		{"jwt bearer", &jwt, mediasign.ForwardBearer, "", "Authorization", "Bearer h.p.s", "u8", ""},
		{"jwt bare", &jwt, mediasign.ForwardJWT, "", "Authorization", "h.p.s", "u8", ""},
		{"session cookie", &session, mediasign.ForwardCookie, "", "Cookie",
			"mediasign_session=sess-id-1", "u7", ""},
		{"session on bearer", &session, mediasign.ForwardBearer, "", "", "", "",
			mediasign.CodeBadGateway},
		{"jwt on cookie", &jwt, mediasign.ForwardCookie, "", "", "", "", mediasign.CodeBadGateway},
		{"api token with service token", &token, "", "svc-1", "Authorization", "Bearer svc-1",
			"service", ""},
		{"no caller with service token", nil, "", "svc-1", "Authorization", "Bearer svc-1",
			"service", ""},
		{"api token without service token", &token, "", "", "", "", "", mediasign.CodeForbidden},
		{"no caller without service token", nil, "", "", "", "", "", mediasign.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mediasign.SignerConfig{URL: "http://s", Forward: tc.forward,
				ServiceToken: tc.serviceToken}
			if err := ValidateConfig(&cfg); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.caller != nil {
				ctx = mediasign.WithCaller(ctx, *tc.caller)
			}
			id, err := identify(ctx, &cfg)
			if tc.code != "" {
				if mediasign.ErrorCode(err) != tc.code {
					t.Fatalf("error %v, want code %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.header != tc.header || id.value != tc.value || id.scope != tc.scope {
				t.Fatalf("identity %s: %q scope %s, want %s: %q scope %s", id.header, id.value,
					id.scope, tc.header, tc.value, tc.scope)
			}
			if got := CacheScope(ctx, &cfg); got != tc.scope {
				t.Fatalf("cache scope %q, want %q", got, tc.scope)
			}
		})
	}
}

func TestSharedScopeIgnoresTheCaller(t *testing.T) {
	cfg := mediasign.SignerConfig{URL: "http://s", CacheScope: mediasign.SignerScopeShared}
	must(t, ValidateConfig(&cfg))
	a := mediasign.WithCaller(context.Background(), mediasign.Caller{UserID: 1,
		Method: mediasign.AuthSession, Credential: "x"})
	if CacheScope(a, &cfg) != "" || CacheScope(context.Background(), &cfg) != "" {
		t.Fatal("a shared scope depends on the caller")
	}
}

func TestValidateConfig(t *testing.T) {
	good := mediasign.SignerConfig{URL: " https://signer.internal/base// "}
	must(t, ValidateConfig(&good))
	want := mediasign.SignerConfig{URL: "https://signer.internal/base",
		Forward: mediasign.ForwardAuto, CookieName: mediasign.DefaultSignerCookie,
		CacheScope: mediasign.SignerScopeUser, TimeoutMS: 5000, MaxConcurrency: 32}
	if good != want {
		t.Fatalf("normalized %+v, want %+v", good, want)
	}

	for _, bad := range []mediasign.SignerConfig{
		{URL: ""},
		{URL: "ftp://s"},
		{URL: "https://user:pw@s"},
		{URL: "https://s/?a=1"},
		{URL: "https://s/#f"},
		{URL: "/relative"},
		{URL: "https://s", Forward: "header"},
		{URL: "https://s", CacheScope: "global"},
		{URL: "https://s", CookieName: "a b"},
		{URL: "https://s", ServiceToken: "two words"},
		{URL: "https://s", TimeoutMS: 10},
		{URL: "https://s", TimeoutMS: 120_000},
		{URL: "https://s", MaxConcurrency: -1},
		{URL: "https://s", MaxConcurrency: 5000},
	} {
		err := ValidateConfig(&bad)
		if mediasign.ErrorCode(err) != mediasign.CodeInvalid {
			t.Errorf("%+v: error %v, want invalid", bad, err)
		}
	}
}

func TestSignerConfigLogsNoToken(t *testing.T) {
	cfg := mediasign.SignerConfig{URL: "https://s", ServiceToken: "very-secret-token"}
	v := cfg.LogValue().String()
	if strings.Contains(v, "very-secret-token") || !strings.Contains(v, "has_service_token=true") {
		t.Fatalf("log value %s shows the token or hides that there is one", v)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestUserScopeTellsAccountsApart checks that two accounts with the same id,
// name and creation second, as a store that reuses ids could produce, never
// share a cache scope or a coalesced call.
func TestUserScopeTellsAccountsApart(t *testing.T) {
	created := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	old := &mediasign.User{ID: 2, Name: "bob", PasswordHash: "$argon2id$v=19$salt-one",
		CreatedAt: created}
	later := &mediasign.User{ID: 2, Name: "bob", PasswordHash: "$argon2id$v=19$salt-two",
		CreatedAt: created}
	cfg := &mediasign.SignerConfig{}
	scope := func(u *mediasign.User) (string, string) {
		c := mediasign.Caller{UserID: u.ID, UserName: u.Name, Account: mediasign.AccountTag(u),
			Method: mediasign.AuthSession, Credential: "same-session"}
		ctx := mediasign.WithCaller(context.Background(), c)
		id, err := identify(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return CacheScope(ctx, cfg), id.key()
	}
	oldScope, oldKey := scope(old)
	laterScope, laterKey := scope(later)
	if oldScope == laterScope || oldKey == laterKey {
		t.Fatalf("both accounts have scope %q and call key %q", oldScope, oldKey)
	}
	if !strings.HasPrefix(oldScope, "u2.") {
		t.Fatalf("scope %q does not start with the user id", oldScope)
	}
	if again, _ := scope(old); again != oldScope {
		t.Fatalf("one account has two scopes: %q and %q", oldScope, again)
	}
}
