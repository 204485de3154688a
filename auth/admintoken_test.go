package auth_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/store/sqlite"
)

func TestAdminToken(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	a, token, err := auth.SetupAdminToken(ctx, st, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "msa_") || len(token) < 40 {
		t.Fatalf("generated token %q is too short or unmarked", token)
	}
	stored, _ := st.Setting(ctx, "admin_token_sha256")
	if strings.Contains(stored, token) || len(stored) != 64 {
		t.Fatalf("stored value %q is not a hash", stored)
	}

	_, again, err := auth.SetupAdminToken(ctx, st, "")
	if err != nil || again != "" {
		t.Fatalf("second start printed a token again (%q, %v)", again, err)
	}

	tests := []struct {
		header string
		ok     bool
	}{
		{"Bearer " + token, true},
		{"bearer " + token, true},
		{"", false},
		{"Bearer", false},
		{"Bearer ", false},
		{"Basic " + token, false},
		{"Bearer " + token + "x", false},
		{token, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/api/v1/info", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		err := a.Check(r)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.header, err, tt.ok)
		}
		if err != nil && mediasign.ErrorCode(err) != mediasign.CodeUnauthorized {
			t.Errorf("Check(%q) code = %s, want unauthorized", tt.header, mediasign.ErrorCode(err))
		}
	}

	fromEnv := strings.Repeat("e", 32)
	b, shown, err := auth.SetupAdminToken(ctx, st, fromEnv)
	if err != nil || shown != "" {
		t.Fatalf("env token: shown %q, err %v", shown, err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+fromEnv)
	if err := b.Check(r); err != nil {
		t.Fatalf("env token refused: %v", err)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	if err := b.Check(r); err == nil {
		t.Fatal("old generated token still accepted after the environment set a new one")
	}
}
