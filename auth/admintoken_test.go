package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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

	none, err := auth.SetupAdminToken(ctx, st, "")
	if err != nil || none != nil {
		t.Fatalf("with no token set or stored: %v, %v; want none and no error", none, err)
	}

	fromEnv := strings.Repeat("e", 32)
	a, err := auth.SetupAdminToken(ctx, st, fromEnv)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := st.Setting(ctx, "admin_token_sha256")
	if strings.Contains(stored, fromEnv) || len(stored) != 64 {
		t.Fatalf("stored value %q is not a hash", stored)
	}
	for token, want := range map[string]bool{fromEnv: true, fromEnv + "x": false, "": false,
		strings.ToUpper(fromEnv): false} {
		if got := a.Matches(token); got != want {
			t.Errorf("Matches(%q) = %v, want %v", token, got, want)
		}
	}

	reset, err := auth.ResetAdminToken(ctx, st)
	if err != nil || !strings.HasPrefix(reset, "msa_") || len(reset) < 40 {
		t.Fatalf("ResetAdminToken = %q, %v", reset, err)
	}
	b, err := auth.SetupAdminToken(ctx, st, "")
	if err != nil || b == nil {
		t.Fatalf("stored token not loaded: %v", err)
	}
	if !b.Matches(reset) || b.Matches(fromEnv) {
		t.Fatal("after a reset the new token must match and the old one must not")
	}
}
