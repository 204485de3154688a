package mediasign_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
)

func TestCallerNeverShowsCredential(t *testing.T) {
	const secret = "eyJhbGciOiJSUzI1NiJ9.secret-part.sig"
	c := mediasign.Caller{UserID: 7, UserName: "alice", Method: mediasign.AuthOAuth2,
		Credential: secret}

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("request", "caller", c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("request", "caller", &c)
	js, err := json.Marshal(struct{ C mediasign.Caller }{c})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c),
		fmt.Sprintf("%+v", struct{ C mediasign.Caller }{c}), c.String(), string(js), logs.String()}
	for _, o := range out {
		if strings.Contains(o, "secret-part") {
			t.Errorf("credential shown in %q", o)
		}
	}
	if !strings.Contains(out[0], "alice") || !strings.Contains(logs.String(), "alice") {
		t.Errorf("caller description lacks the user: %q", out[0])
	}

	ctx := mediasign.WithCaller(context.Background(), c)
	got, ok := mediasign.CallerFrom(ctx)
	if !ok || got.Credential != secret {
		t.Fatal("the credential did not reach the context's caller")
	}
	if _, ok := mediasign.CallerFrom(context.Background()); ok {
		t.Fatal("an empty context has a caller")
	}
}

func TestRoleOrder(t *testing.T) {
	tests := []struct {
		r, min mediasign.Role
		want   bool
	}{
		{mediasign.RoleAdmin, mediasign.RoleViewer, true},
		{mediasign.RoleEditor, mediasign.RoleEditor, true},
		{mediasign.RoleViewer, mediasign.RoleEditor, false},
		{"", mediasign.RoleViewer, false},
		{"owner", mediasign.RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.r.AtLeast(tt.min); got != tt.want {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", tt.r, tt.min, got, tt.want)
		}
	}
	if _, err := mediasign.ParseRole("Admin"); err == nil {
		t.Error("ParseRole accepted Admin")
	}
}

func TestUserCanSignIn(t *testing.T) {
	for _, tc := range []struct {
		user           mediasign.User
		password, oidc bool
	}{
		{mediasign.User{PasswordHash: "h"}, true, false},
		{mediasign.User{Subject: "s"}, false, true},
		{mediasign.User{PasswordHash: "h", Subject: "s"}, true, true},
		{mediasign.User{}, false, false},
	} {
		if got := tc.user.CanSignIn(mediasign.SignInPassword); got != tc.password {
			t.Errorf("%+v: CanSignIn(password) = %v, want %v", tc.user, got, tc.password)
		}
		if got := tc.user.CanSignIn(mediasign.SignInOAuth2); got != tc.oidc {
			t.Errorf("%+v: CanSignIn(oauth2) = %v, want %v", tc.user, got, tc.oidc)
		}
	}
}
