package customsigner_test

import (
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

func apiToken(projectID int64) auth.NewAPIToken {
	return auth.NewAPIToken{ProjectID: projectID, Name: "backend", Role: mediasign.RoleViewer}
}

// TestDefaultCookieIsTheSessionCookie checks that signers get the session
// under the name mediasign's own cookie has.
func TestDefaultCookieIsTheSessionCookie(t *testing.T) {
	if mediasign.DefaultSignerCookie != auth.SessionCookie {
		t.Fatalf("signer cookie %q, session cookie %q", mediasign.DefaultSignerCookie,
			auth.SessionCookie)
	}
}
