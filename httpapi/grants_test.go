package httpapi

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// TestImportNeedsConnectionGrant checks that a project admin imports only
// from connections granted to their project, and that nothing is listed
// for a refused import.
func TestImportNeedsConnectionGrant(t *testing.T) {
	f := newFixture(t, auth.Options{})
	_, err := f.auth.Users().Add(context.Background(), auth.NewUser{Name: "oadmin",
		Password: "password-1"})
	must(t, err)
	_, err = f.auth.Users().SetMember(context.Background(), "other", "oadmin", mediasign.RoleAdmin)
	must(t, err)
	oadmin := f.login("oadmin", "password-1").apply
	body := `{"connection":"fake","bucket":"b","prefix":"x/"}`

	before := f.storage.calls()
	resp, answer := f.do("POST", "/api/v1/datasets/2/imports", body, oadmin)
	if resp.StatusCode != 403 {
		t.Fatalf("import from a connection not granted to the project = %d %s, want 403",
			resp.StatusCode, answer)
	}
	missing, _ := f.do("POST", "/api/v1/datasets/2/imports",
		`{"connection":"nope","bucket":"b","prefix":"x/"}`, oadmin)
	if missing.StatusCode != 403 {
		t.Errorf("import from a missing connection = %d, want 403 like an ungranted one",
			missing.StatusCode)
	}
	if f.storage.calls() != before {
		t.Fatal("a refused import reached the storage")
	}
}

// TestConnectionGrantRoutes grants and revokes a connection through the
// API and checks the connection view and the imports that follow.
func TestConnectionGrantRoutes(t *testing.T) {
	f := newFixture(t, auth.Options{})
	_, err := f.auth.Users().Add(context.Background(), auth.NewUser{Name: "oadmin",
		Password: "password-1"})
	must(t, err)
	_, err = f.auth.Users().SetMember(context.Background(), "other", "oadmin", mediasign.RoleAdmin)
	must(t, err)
	oadmin := f.login("oadmin", "password-1").apply
	admin := bearer(f.admin)
	importBody := `{"connection":"fake","bucket":"b","prefix":"x/"}`

	projects := func() []string {
		t.Helper()
		resp, body := f.do("GET", "/api/v1/connections/fake", "", admin)
		var v struct {
			Projects []string `json:"projects"`
		}
		must(t, json.Unmarshal(body, &v))
		if resp.StatusCode != 200 {
			t.Fatalf("get connection = %d %s", resp.StatusCode, body)
		}
		return v.Projects
	}
	if got := projects(); !slices.Equal(got, []string{"p"}) {
		t.Fatalf("grants = %q, want [p]", got)
	}

	for _, step := range []struct {
		method, path string
		want         int
	}{
		{"PUT", "/api/v1/connections/fake/projects/other", 200},
		{"PUT", "/api/v1/connections/fake/projects/other", 200},
		{"PUT", "/api/v1/connections/fake/projects/nope", 404},
		{"PUT", "/api/v1/connections/nope/projects/other", 404},
	} {
		if got := f.status(step.method, step.path, "", admin); got != step.want {
			t.Errorf("%s %s = %d, want %d", step.method, step.path, got, step.want)
		}
	}
	if got := projects(); !slices.Equal(got, []string{"other", "p"}) {
		t.Fatalf("grants = %q, want [other p]", got)
	}
	if got := f.status("POST", "/api/v1/datasets/2/imports", importBody, oadmin); got != 200 {
		t.Fatalf("import from a granted connection = %d, want 200", got)
	}

	if got := f.status("DELETE", "/api/v1/connections/fake/projects/other", "", admin); got != 200 {
		t.Fatalf("revoke = %d, want 200", got)
	}
	if got := f.status("DELETE", "/api/v1/connections/fake/projects/other", "", admin); got != 404 {
		t.Errorf("revoke again = %d, want 404", got)
	}
	if got := f.status("POST", "/api/v1/datasets/2/imports", importBody, oadmin); got != 403 {
		t.Errorf("import after the grant was revoked = %d, want 403", got)
	}
	if got := f.status("POST", "/api/v1/datasets/2/imports", importBody, admin); got != 200 {
		t.Errorf("installation admin import from an ungranted connection = %d, want 200", got)
	}
}
