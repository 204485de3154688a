package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// TestSessionIntrospection asks who sessions belong to, with and without
// the signer's secret.
func TestSessionIntrospection(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", "viewer")
	f.addUser("editor", "editor")
	viewer, editor := f.login("viewer", "password-1"), f.login("editor", "password-1")
	ask := func(id string, prepare func(*http.Request)) (int, introspectAnswer) {
		resp, body := f.do("POST", "/api/v1/signer/introspect", `{"session_id":`+quote(id)+`}`,
			prepare)
		var a introspectAnswer
		if resp.StatusCode == 200 {
			must(t, json.Unmarshal(body, &a))
		}
		return resp.StatusCode, a
	}

	if code, _ := ask(viewer.cookie.Value, bearer("mss_guess")); code != 403 {
		t.Fatalf("before a secret exists: %d, want 403", code)
	}
	secret, err := f.service().ResetSignerSecret(context.Background())
	must(t, err)

	code, a := ask(viewer.cookie.Value, bearer(secret))
	if code != 200 || !a.Active || a.User.Name != "viewer" || !slices.Equal(a.Groups, []string{"p:viewer"}) {
		t.Fatalf("viewer's session: %d %+v", code, a)
	}
	code, a = ask(editor.cookie.Value, bearer(secret))
	if code != 200 || !slices.Equal(a.Groups, []string{"p:viewer", "p:editor"}) {
		t.Fatalf("editor's session: %d %+v", code, a)
	}
	for _, id := range []string{"", "nope", viewer.cookie.Value + "x"} {
		if code, a := ask(id, bearer(secret)); code != 200 || a.Active || a.User != nil {
			t.Fatalf("session %q: %d %+v, want inactive", id, code, a)
		}
	}

	for name, tc := range map[string]struct {
		prepare func(*http.Request)
		want    int
	}{
		"no credentials":        {nil, 401},
		"wrong secret":          {bearer(secret + "x"), 403},
		"the admin token":       {bearer(f.admin), 403},
		"a signed-in user":      {viewer.apply, 403},
		"secret without Bearer": {func(r *http.Request) { r.Header.Set("Authorization", secret) }, 403},
	} {
		if code, _ := ask(viewer.cookie.Value, tc.prepare); code != tc.want {
			t.Errorf("%s: %d, want %d", name, code, tc.want)
		}
	}
}

// TestUploadURL asks for upload URLs as an editor.
func TestUploadURL(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("editor", "editor")
	ed := f.login("editor", "password-1").apply

	resp, body := f.do("POST", "/api/v1/datasets/1/uploads", `{"key":"new/a b.png"}`, ed)
	var out uploadAnswer
	must(t, json.Unmarshal(body, &out))
	if resp.StatusCode != 200 || out.Method != "PUT" || out.Bucket != "b" || out.Connection != "fake" ||
		out.ContentType != "image/png" || out.URL == "" || out.ExpiresAt.IsZero() {
		t.Fatalf("upload = %d %s", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"key":""}`, 400},
		{`{"key":"a.png","bucket":"other-bucket"}`, 403},
		{`{"key":"a.png","connection":"missing"}`, 404},
		{`{"key":"a.png","expires_seconds":5}`, 400},
		{`{"key":"a\u0000.png"}`, 400},
	} {
		if resp, body := f.do("POST", "/api/v1/datasets/1/uploads", tc.body, ed); resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.body, resp.StatusCode, body, tc.want)
		}
	}
}

// TestConnectionViewHidesTheServiceToken checks that a signer's token is
// write-only.
func TestConnectionViewHidesTheServiceToken(t *testing.T) {
	c := &mediasign.Connection{Name: "c", Provider: mediasign.ProviderS3,
		Signer: &mediasign.SignerConfig{URL: "https://signer.test", ServiceToken: "tok-very-secret",
			Forward: "auto", CacheScope: "user"}}
	b, err := json.Marshal(viewConnection(c))
	must(t, err)
	if strings.Contains(string(b), "tok-very-secret") || !strings.Contains(string(b),
		`"has_service_token":true`) || !strings.Contains(string(b), `"url":"https://signer.test"`) {
		t.Fatalf("view %s shows the token or hides the signer", b)
	}
}
