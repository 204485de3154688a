package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// need is what a route asks of its caller.
type need int

const (
	needNothing  need = iota // public
	needSignedIn             // any caller
	needViewP                // viewer of project p
	needAdminP               // admin of project p, token or person
	needManageP              // admin of project p, a person
	needInstall              // installation admin
	needEditP                // editor of project p
	needSecret               // the signer introspection secret, which no caller here has
)

// routeCase is one request to a route.
type routeCase struct {
	pattern      string
	method, path string
	body         string
	need         need
}

// routeCases hold a request for every route the server registers.
var routeCases = []routeCase{
	{"GET /healthz", "GET", "/healthz", "", needNothing},
	{"GET /readyz", "GET", "/readyz", "", needNothing},
	{"GET /metrics", "GET", "/metrics", "", needNothing},
	{"/files/", "GET", "/files/1/x", "", needNothing},
	{"GET /{$}", "GET", "/", "", needNothing},
	{"GET /api/v1/auth", "GET", "/api/v1/auth", "", needNothing},
	{"POST /api/v1/login", "POST", "/api/v1/login", `{}`, needNothing},
	{"GET /api/v1/me", "GET", "/api/v1/me", "", needSignedIn},
	{"GET /api/v1/info", "GET", "/api/v1/info", "", needSignedIn},

	{"GET /api/v1/media/{id}/url", "GET", "/api/v1/media/1/url", "", needViewP},
	{"POST /api/v1/media/urls", "POST", "/api/v1/media/urls", `{"ids":[1,2]}`, needSignedIn},
	{"GET /m/{id}", "GET", "/m/1", "", needViewP},
	{"GET /m/{id}", "GET", "/m/1?variant=thumb", "", needViewP},

	{"GET /api/v1/connections", "GET", "/api/v1/connections", "", needInstall},
	{"POST /api/v1/connections", "POST", "/api/v1/connections",
		`{"name":"fake2","provider":"fake"}`, needInstall},
	{"GET /api/v1/connections/{name}", "GET", "/api/v1/connections/fake", "", needInstall},
	{"PUT /api/v1/connections/{name}", "PUT", "/api/v1/connections/fake",
		`{"name":"fake","provider":"fake"}`, needInstall},
	{"POST /api/v1/connections/{name}/test", "POST", "/api/v1/connections/fake/test?bucket=b", "",
		needInstall},
	{"PUT /api/v1/connections/{name}/projects/{project}", "PUT",
		"/api/v1/connections/fake/projects/other", "", needInstall},
	{"DELETE /api/v1/connections/{name}/projects/{project}", "DELETE",
		"/api/v1/connections/fake/projects/other", "", needInstall},

	{"GET /api/v1/projects", "GET", "/api/v1/projects", "", needSignedIn},
	{"POST /api/v1/projects", "POST", "/api/v1/projects", `{"name":"new"}`, needInstall},
	{"GET /api/v1/projects/{project}/datasets", "GET", "/api/v1/projects/p/datasets", "", needViewP},
	{"POST /api/v1/projects/{project}/datasets", "POST", "/api/v1/projects/p/datasets",
		`{"name":"more"}`, needAdminP},
	{"GET /api/v1/datasets/{id}", "GET", "/api/v1/datasets/1", "", needViewP},
	{"GET /api/v1/datasets/{id}/media", "GET", "/api/v1/datasets/1/media", "", needViewP},
	{"POST /api/v1/datasets/{id}/imports", "POST", "/api/v1/datasets/1/imports",
		`{"connection":"fake","bucket":"b"}`, needAdminP},
	{"POST /api/v1/datasets/{id}/uploads", "POST", "/api/v1/datasets/1/uploads",
		`{"key":"uploads/new.jpg"}`, needEditP},
	{"POST /api/v1/signer/introspect", "POST", "/api/v1/signer/introspect",
		`{"session_id":"x"}`, needSecret},

	{"GET /api/v1/users", "GET", "/api/v1/users", "", needInstall},
	{"POST /api/v1/users", "POST", "/api/v1/users", `{"name":"new-user","password":"password-2"}`,
		needInstall},
	{"PUT /api/v1/users/{name}/password", "PUT", "/api/v1/users/victim/password",
		`{"password":"password-3"}`, needInstall},
	{"PUT /api/v1/users/{name}", "PUT", "/api/v1/users/victim", `{"installation_admin":false}`,
		needInstall},
	{"DELETE /api/v1/users/{name}", "DELETE", "/api/v1/users/victim", "", needInstall},

	{"GET /api/v1/projects/{project}/members", "GET", "/api/v1/projects/p/members", "", needManageP},
	{"PUT /api/v1/projects/{project}/members/{user}", "PUT", "/api/v1/projects/p/members/victim",
		`{"role":"viewer"}`, needManageP},
	{"DELETE /api/v1/projects/{project}/members/{user}", "DELETE",
		"/api/v1/projects/p/members/victim", "", needManageP},
	{"GET /api/v1/projects/{project}/tokens", "GET", "/api/v1/projects/p/tokens", "", needManageP},
	{"POST /api/v1/projects/{project}/tokens", "POST", "/api/v1/projects/p/tokens",
		`{"name":"made","role":"viewer"}`, needManageP},
	{"DELETE /api/v1/projects/{project}/tokens/{id}", "DELETE", "/api/v1/projects/p/tokens/999",
		"", needManageP},

	{"POST /api/v1/projects/{project}/exports", "POST", "/api/v1/projects/p/exports",
		`{"datasets":["no-such-dataset"]}`, needAdminP},
	{"GET /api/v1/projects/{project}/exports", "GET", "/api/v1/projects/p/exports", "", needAdminP},
	{"GET /api/v1/projects/{project}/exports/{id}", "GET", "/api/v1/projects/p/exports/999", "",
		needAdminP},
	{"GET /api/v1/projects/{project}/exports/{id}/file", "GET",
		"/api/v1/projects/p/exports/999/file", "", needAdminP},
	{"DELETE /api/v1/projects/{project}/exports/{id}", "DELETE", "/api/v1/projects/p/exports/999",
		"", needAdminP},

	// Last: it ends the sessions of the callers.
	{"POST /api/v1/logout", "POST", "/api/v1/logout", ``, needNothing},
}

// callerCase is one kind of caller, with what it holds in project p.
type callerCase struct {
	name    string
	prepare func(*http.Request)
	role    mediasign.Role // in project p
	person  bool
	install bool
}

// refusal returns the status that c gets from a route that needs n and
// refuses c: 401 without credentials, 404 where c may not view project p
// (as if the resource were missing), 403 otherwise.
func (c callerCase) refusal(n need) int {
	switch {
	case c.prepare == nil:
		return http.StatusUnauthorized
	case n == needManageP && !c.person:
		return http.StatusForbidden // API tokens are refused before the project is looked at
	case (n == needViewP || n == needEditP || n == needAdminP || n == needManageP) && c.role == "":
		return http.StatusNotFound
	}
	return http.StatusForbidden
}

// allowed reports whether c may call a route that needs n.
func (c callerCase) allowed(n need) bool {
	switch n {
	case needNothing:
		return true
	case needSecret:
		return false
	case needEditP:
		return c.install || c.role.AtLeast(mediasign.RoleEditor)
	case needSignedIn:
		return c.prepare != nil
	case needViewP:
		return c.install || c.role.AtLeast(mediasign.RoleViewer)
	case needAdminP:
		return c.install || c.role.AtLeast(mediasign.RoleAdmin)
	case needManageP:
		return c.install || (c.person && c.role.AtLeast(mediasign.RoleAdmin))
	}
	return c.install
}

func (f *fixture) callers() []callerCase {
	f.t.Helper()
	for name, role := range map[string]mediasign.Role{"outsider": "", "viewer": mediasign.RoleViewer,
		"editor": mediasign.RoleEditor, "padmin": mediasign.RoleAdmin, "victim": mediasign.RoleViewer} {
		f.addUser(name, role)
	}
	sess := func(name string) func(*http.Request) { return f.login(name, "password-1").apply }
	return []callerCase{
		{name: "no credentials"},
		{name: "non-member", prepare: sess("outsider"), person: true},
		{name: "viewer", prepare: sess("viewer"), role: mediasign.RoleViewer, person: true},
		{name: "editor", prepare: sess("editor"), role: mediasign.RoleEditor, person: true},
		{name: "project admin", prepare: sess("padmin"), role: mediasign.RoleAdmin, person: true},
		{name: "viewer token", prepare: bearer(f.apiToken("p", mediasign.RoleViewer)),
			role: mediasign.RoleViewer},
		{name: "admin token of p", prepare: bearer(f.apiToken("p", mediasign.RoleAdmin)),
			role: mediasign.RoleAdmin},
		{name: "admin token of other", prepare: bearer(f.apiToken("other", mediasign.RoleAdmin))},
		{name: "installation admin", prepare: bearer(f.admin), install: true},
	}
}

// TestAuthorizationTable sends every route's request as every kind of
// caller. Refused callers get 401 (no credentials), 404 (no role in the
// project, as if the resource did not exist) or 403, and the storage double
// proves nothing was signed, listed or checked for them.
func TestAuthorizationTable(t *testing.T) {
	f := newFixture(t, auth.Options{})
	callers := f.callers()

	for _, rc := range routeCases {
		for _, c := range callers {
			t.Run(rc.method+" "+rc.path+" as "+c.name, func(t *testing.T) {
				before := f.storage.calls()
				resp, body := f.do(rc.method, rc.path, rc.body, c.prepare)
				got := resp.StatusCode

				if c.allowed(rc.need) {
					if got == 401 || got == 403 {
						t.Fatalf("= %d %s, want access", got, body)
					}
					return
				}
				want := c.refusal(rc.need)
				if got != want {
					t.Fatalf("= %d %s, want %d", got, body, want)
				}
				errorOf(t, resp, body)
				if after := f.storage.calls(); after != before {
					t.Fatalf("refused request reached the storage: calls %v -> %v", before, after)
				}
			})
		}
	}
}

// TestEveryRouteIsInTheTable fails when a route is added without a row in
// the authorization table.
func TestEveryRouteIsInTheTable(t *testing.T) {
	f := newFixture(t, auth.Options{})
	s := New(Options{Service: f.service(), Auth: f.auth, Files: http.NotFoundHandler(),
		Metrics: nil})
	covered := map[string]bool{}
	for _, rc := range routeCases {
		covered[rc.pattern] = true
	}
	for pattern := range s.rules {
		if !covered[pattern] {
			t.Errorf("route %q has no row in routeCases", pattern)
		}
	}
	if len(s.rules) < 30 {
		t.Fatalf("only %d routes registered: the table check would prove little", len(s.rules))
	}
}

// TestBatchChecksEachItem asks for media of two projects at once: a viewer
// of one gets its URL and a refusal for the other, which is never signed.
func TestBatchChecksEachItem(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	f.addUser("outsider", "")

	for _, tc := range []struct {
		user      string
		wantSigns int64
		want      [2]string
	}{
		{"outsider", 0, [2]string{"not_found", "not_found"}},
		{"viewer", 2, [2]string{"", "not_found"}}, // the file and its thumbnail
	} {
		before := f.storage.signs.Load()
		resp, body := f.do("POST", "/api/v1/media/urls", `{"ids":[1,2]}`,
			f.login(tc.user, "password-1").apply)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: batch = %d %s", tc.user, resp.StatusCode, body)
		}
		var out struct {
			Results []urlAnswer `json:"results"`
		}
		must(t, json.Unmarshal(body, &out))
		for i, r := range out.Results {
			code := ""
			if r.Error != nil {
				code = string(r.Error.Code)
			}
			if code != tc.want[i] || r.ID != int64(i+1) {
				t.Errorf("%s: item %d = %+v, want id %d and error %q", tc.user, i, r, i+1, tc.want[i])
			}
		}
		if got := f.storage.signs.Load() - before; got != tc.wantSigns {
			t.Errorf("%s: %d URLs signed, want %d", tc.user, got, tc.wantSigns)
		}
	}
}

// TestProjectsListShowsOnlyOwn checks that a member sees only their
// projects and an installation admin sees all.
func TestProjectsListShowsOnlyOwn(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	for _, tc := range []struct {
		prepare func(*http.Request)
		want    int
	}{
		{f.login("viewer", "password-1").apply, 1},
		{bearer(f.apiToken("other", mediasign.RoleViewer)), 1},
		{bearer(f.admin), 2},
	} {
		_, body := f.do("GET", "/api/v1/projects", "", tc.prepare)
		var out struct {
			Projects []mediasign.Project `json:"projects"`
		}
		must(t, json.Unmarshal(body, &out))
		if len(out.Projects) != tc.want {
			t.Errorf("projects = %+v, want %d", out.Projects, tc.want)
		}
	}
}
