package export_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/customsigner/customsignertest"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/internal/fakeclock"
)

const exportServiceToken = "export-service-token"

// credentials is a custom signer that counts the keys it signs per
// credential and answers with URLs valid for valid.
type credentials struct {
	clock mediasign.Clock
	valid time.Duration

	mu   sync.Mutex
	keys map[string]int
}

func (c *credentials) serve(w http.ResponseWriter, r *http.Request) {
	cred := r.Header.Get("Cookie")
	if cred == "" {
		cred = r.Header.Get("Authorization")
	}
	c.mu.Lock()
	c.keys[cred]++
	c.mu.Unlock()
	customsignertest.WriteJSON(w, 200, map[string]any{
		"url": customsignertest.SignedURL("media", r.URL.Query().Get("key"),
			customsignertest.Caller(r)),
		"expires_at": c.clock.Now().Add(c.valid).UTC()})
}

func (c *credentials) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.keys))
	for k, n := range c.keys {
		out[k] = n
	}
	return out
}

// signerSetup is an environment on a fake clock with a dataset "signed" of
// n files on a connection with a custom signer.
func signerSetup(t *testing.T, n int, valid time.Duration, token string) (*env, *fakeclock.Clock,
	*credentials) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, envOptions{clock: clock})
	c := &credentials{clock: clock, valid: valid, keys: make(map[string]int)}
	srv := customsignertest.NewSigner(t, c.serve)

	conn := s3Connection(envOptions{})
	conn.Name, conn.Signer = "signed", &mediasign.SignerConfig{URL: srv.URL, ServiceToken: token}
	ctx := context.Background()
	must(t, e.svc.AddConnection(ctx, conn))
	d := e.dataset("signed")
	files := make([]mediasign.MediaFile, n)
	for i := range files {
		files[i] = mediasign.MediaFile{DatasetID: d.ID, ConnectionID: conn.ID, Bucket: "media",
			Key: fmt.Sprintf("k/%03d.jpg", i), MediaType: "image/jpeg"}
	}
	_, err := e.store.AddMedia(ctx, files)
	must(t, err)
	return e, clock, c
}

// sessionUser stores a user with a session that ends at expires and
// returns a request context for them.
func sessionUser(t *testing.T, e *env, name, id string, expires time.Time) context.Context {
	t.Helper()
	ctx := context.Background()
	u := &mediasign.User{Name: name, NameKey: name, InstallAdmin: true}
	must(t, e.store.CreateUser(ctx, u))
	sum := sha256.Sum256([]byte(id))
	must(t, e.store.CreateSession(ctx, &mediasign.Session{IDHash: hex.EncodeToString(sum[:]),
		UserID: u.ID, CreatedAt: e.clock.Now(), ExpiresAt: expires}))
	return mediasign.WithCaller(ctx, mediasign.Caller{UserID: u.ID, UserName: name,
		InstallAdmin: true, Method: mediasign.AuthSession, Credential: id})
}

func runSignedExport(t *testing.T, e *env, ctx context.Context) *mediasign.Export {
	t.Helper()
	m, _ := newManager(t, e, export.ManagerOptions{})
	started, err := m.Start(ctx, export.StartRequest{Project: e.project,
		Datasets: []string{"signed"}})
	must(t, err)
	return waitEnd(t, m, e.project.ID, started.ID)
}

func TestExportForwardsTheRequestersSession(t *testing.T) {
	e, clock, c := signerSetup(t, 40, 7*24*time.Hour, exportServiceToken)
	ctx := sessionUser(t, e, "alice", "alice-session-id", clock.Now().Add(12*time.Hour))

	done := runSignedExport(t, e, ctx)
	keys := c.counts()
	if done.State != mediasign.ExportDone || done.Written != 40 {
		t.Fatalf("export = %+v, want done with 40 entries", done)
	}
	if keys["mediasign_session=alice-session-id"] != 40 || len(keys) != 1 {
		t.Fatalf("keys by credential = %v, want all 40 with alice's session cookie", keys)
	}
}

func TestExportFallsBackToTheServiceToken(t *testing.T) {
	e, clock, c := signerSetup(t, 40, 7*24*time.Hour, exportServiceToken)
	ctx := sessionUser(t, e, "alice", "alice-session-id", clock.Now().Add(10*time.Second))

	done := runSignedExport(t, e, ctx)
	keys := c.counts()
	if done.State != mediasign.ExportDone || keys["Bearer "+exportServiceToken] != 40 ||
		len(keys) != 1 {
		t.Fatalf("export = %+v with keys by credential %v, want done, all 40 with the "+
			"service token", done, keys)
	}
}

func TestExportWithoutIdentityFailsAtOnce(t *testing.T) {
	e, clock, c := signerSetup(t, 40, 7*24*time.Hour, "")
	ctx := sessionUser(t, e, "alice", "alice-session-id", clock.Now().Add(-time.Minute))

	done := runSignedExport(t, e, ctx)
	if done.State != mediasign.ExportFailed || !strings.Contains(done.Error, `"signed"`) ||
		!strings.Contains(done.Error, "service_token") {
		t.Fatalf("export = %+v, want failed naming the connection and service_token", done)
	}
	if keys := c.counts(); len(keys) != 0 {
		t.Fatalf("the signer was asked %v, want never", keys)
	}
}

func TestExportRefusesShortLivedSignerURLs(t *testing.T) {
	e, _, c := signerSetup(t, 10, 3*24*time.Hour, exportServiceToken)

	done := runSignedExport(t, e, asAdmin())
	if done.State != mediasign.ExportFailed || !strings.Contains(done.Error, "custom URL signer") ||
		!strings.Contains(done.Error, `"signed"`) {
		t.Fatalf("export = %+v, want failed naming the connection's signer", done)
	}
	if keys := c.counts(); keys["Bearer "+exportServiceToken] == 0 {
		t.Fatalf("keys by credential = %v, want the service token asked", keys)
	}
}

// jwtWith returns an unsigned JWT-shaped token with claims; the exporter
// reads only its expiry, which authentication checked before.
func jwtWith(claims string) string {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	return enc(`{"alg":"RS256"}`) + "." + enc(claims) + ".c2ln"
}

func TestExportReadsTheJWTExpiry(t *testing.T) {
	for _, tc := range []struct {
		name       string
		expiresIn  time.Duration
		forwardJWT bool
	}{
		{"valid for hours", 12 * time.Hour, true},
		{"ended", -time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, clock, c := signerSetup(t, 20, 7*24*time.Hour, exportServiceToken)
			token := jwtWith(fmt.Sprintf(`{"sub":"bob","exp":%d}`,
				clock.Now().Add(tc.expiresIn).Unix()))
			u := &mediasign.User{Name: "bob", NameKey: "bob", Subject: "bob"}
			must(t, e.store.CreateUser(context.Background(), u))
			ctx := mediasign.WithCaller(context.Background(), mediasign.Caller{UserID: u.ID,
				UserName: "bob", InstallAdmin: true, Method: mediasign.AuthOAuth2,
				Credential: token})

			done := runSignedExport(t, e, ctx)
			want := "Bearer " + exportServiceToken
			if tc.forwardJWT {
				want = "Bearer " + token
			}
			if keys := c.counts(); done.State != mediasign.ExportDone || keys[want] != 20 {
				t.Fatalf("export = %+v with %d keys under the wanted credential (%d credentials "+
					"seen), want done and all 20", done, keys[want], len(keys))
			}
		})
	}
}
