package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mediasign/mediasign"
)

// requireRefused fails unless err is an unauthorized *mediasign.Error with
// message want that quotes no part of token.
func requireRefused(t *testing.T, err error, want, token string) {
	t.Helper()
	var e *mediasign.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *mediasign.Error", err, err)
	}
	if e.Code != mediasign.CodeUnauthorized {
		t.Errorf("code = %q, want %q", e.Code, mediasign.CodeUnauthorized)
	}
	if e.Message != want {
		t.Errorf("message = %q, want %q (detail: %v)", e.Message, want, e.Err)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 && strings.Contains(err.Error(), part) {
			t.Errorf("error %q quotes part of the token", err.Error())
		}
	}
}

func TestVerifyAcceptsGoodTokens(t *testing.T) {
	rsa1, ec1 := rsaKey(t, 0, "rsa-1"), ecKey(t, "ec-1")
	f := newFixture(t, nil, rsa1, ec1)

	for _, k := range []testKey{rsa1, ec1} {
		t.Run(string(k.alg), func(t *testing.T) {
			claims := f.claims()
			got, err := f.v.Verify(context.Background(), k.sign(t, claims))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}

			want := time.Unix(claims["exp"].(int64), 0)
			if got.Subject != "user-1" || got.Email != "ada@example.com" ||
				got.Name != "Ada Lovelace" || !got.Expiry.Equal(want) {
				t.Errorf("claims = %+v", got)
			}
			if got.Roles == nil || len(got.Roles) != 0 {
				t.Errorf("roles = %v, want an empty map", got.Roles)
			}
		})
	}
}

func TestVerifyRefusesBadTokens(t *testing.T) {
	rsa1, ec1 := rsaKey(t, 0, "rsa-1"), ecKey(t, "ec-1")
	stranger := rsaKey(t, 2, "rsa-1")

	tests := []struct {
		name  string
		token func(t *testing.T, f *fixture) string
		want  string
	}{
		{"expired", func(t *testing.T, f *fixture) string {
			now := f.clock.Now()
			return rsa1.sign(t, with(f.claims(), "iat", now.Add(-2*time.Hour).Unix(),
				"nbf", now.Add(-2*time.Hour).Unix(), "exp", now.Add(-time.Hour).Unix()))
		}, msgExpired},
		{"expired just past the leeway", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "iat", nil, "nbf", nil,
				"exp", f.clock.Now().Add(-DefaultLeeway-time.Second).Unix()))
		}, msgExpired},
		{"not yet valid", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "nbf", f.clock.Now().Add(time.Hour).Unix()))
		}, msgNotValidYet},
		{"issued in the future", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "iat", f.clock.Now().Add(time.Hour).Unix()))
		}, msgIssuedFuture},
		{"no expiry", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "exp", nil))
		}, msgNoExpiry},
		{"wrong issuer", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "iss", "https://idp.example.com"))
		}, msgIssuer},
		{"issuer with a trailing slash", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "iss", f.p.issuer()+"/"))
		}, msgIssuer},
		{"no issuer", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "iss", nil))
		}, msgIssuer},
		{"wrong audience", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "aud", "another-app"))
		}, msgAudience},
		{"audience list without ours", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "aud", []string{"a", "b"}))
		}, msgAudience},
		{"no audience", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "aud", nil))
		}, msgAudience},
		{"no subject", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "sub", nil))
		}, msgNoSubject},
		{"exp is a string", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, with(f.claims(), "exp", "tomorrow"))
		}, msgClaims},
		{"unknown key id", func(t *testing.T, f *fixture) string {
			return rsaKey(t, 2, "rsa-unknown").sign(t, f.claims())
		}, msgUnknownKey},
		{"known key id, other key", func(t *testing.T, f *fixture) string {
			return stranger.sign(t, f.claims())
		}, msgSignature},
		{"ES256 under the id of an RSA key", func(t *testing.T, f *fixture) string {
			return ecKey(t, "rsa-1").sign(t, f.claims())
		}, msgUnknownKey},
		{"algorithm the key is not published for", func(t *testing.T, f *fixture) string {
			return rsa1.signAs(t, jose.PS256, f.claims())
		}, msgAlgorithm},
		{"alg none", func(t *testing.T, f *fixture) string {
			return unsigned(t, "rsa-1", f.claims(), "")
		}, msgAlgorithm},
		{"alg none with a real signature attached", func(t *testing.T, f *fixture) string {
			good := strings.Split(rsa1.sign(t, f.claims()), ".")
			return unsigned(t, "rsa-1", f.claims(), good[2])
		}, msgAlgorithm},
		{"HS256 keyed with the PEM public key", func(t *testing.T, f *fixture) string {
			return hmacToken(t, "rsa-1", publicPEM(t, rsa1), f.claims())
		}, msgAlgorithm},
		{"HS256 keyed with the DER public key", func(t *testing.T, f *fixture) string {
			return hmacToken(t, "rsa-1", publicDER(t, rsa1), f.claims())
		}, msgAlgorithm},
		{"one signature byte flipped", func(t *testing.T, f *fixture) string {
			return flipSignatureByte(t, rsa1.sign(t, f.claims()))
		}, msgSignature},
		{"one ES256 signature byte flipped", func(t *testing.T, f *fixture) string {
			return flipSignatureByte(t, ec1.sign(t, f.claims()))
		}, msgSignature},
		{"claims swapped under a good signature", func(t *testing.T, f *fixture) string {
			good := strings.Split(rsa1.sign(t, f.claims()), ".")
			other := strings.Split(rsa1.sign(t, with(f.claims(), "sub", "admin")), ".")
			return good[0] + "." + other[1] + "." + good[2]
		}, msgSignature},
		{"empty", func(*testing.T, *fixture) string { return "" }, msgMissing},
		{"two parts", func(t *testing.T, f *fixture) string {
			parts := strings.Split(rsa1.sign(t, f.claims()), ".")
			return parts[0] + "." + parts[1]
		}, msgMalformed},
		{"four parts", func(t *testing.T, f *fixture) string {
			return rsa1.sign(t, f.claims()) + ".AAAA"
		}, msgMalformed},
		{"garbage base64", func(*testing.T, *fixture) string {
			return "!!not-base64!!.%%%%.$$$$"
		}, msgMalformed},
		{"header is not JSON", func(t *testing.T, f *fixture) string {
			parts := strings.Split(rsa1.sign(t, f.claims()), ".")
			return b64("not json") + "." + parts[1] + "." + parts[2]
		}, msgMalformed},
		{"1 MiB", func(*testing.T, *fixture) string {
			return strings.Repeat("A", 1<<20-2) + ".."
		}, msgTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, rsa1, ec1)
			token := tt.token(t, f)

			got, err := f.v.Verify(context.Background(), token)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", got)
			}
			requireRefused(t, err, tt.want, token)
		})
	}
}

func TestVerifyRefusesHugeTokenQuickly(t *testing.T) {
	f := newFixture(t, nil, rsaKey(t, 0, "rsa-1"))
	parts := strings.Split(rsaKey(t, 0, "rsa-1").sign(t, f.claims()), ".")
	huge := parts[0] + "." + strings.Repeat("A", 1<<20) + "." + parts[2]
	fetches := f.p.jwksFetches.Load()

	start := time.Now()
	_, err := f.v.Verify(context.Background(), huge)
	elapsed := time.Since(start)

	requireRefused(t, err, msgTooLarge, huge)
	if elapsed > 200*time.Millisecond {
		t.Errorf("refusing a 1 MiB token took %s", elapsed)
	}
	if n := f.p.jwksFetches.Load(); n != fetches {
		t.Errorf("a huge token caused %d JWKS fetches", n-fetches)
	}
	t.Logf("1 MiB token refused in %s", elapsed)
}

func TestVerifyLeeway(t *testing.T) {
	rsa1 := rsaKey(t, 0, "rsa-1")
	tests := []struct {
		name   string
		leeway time.Duration
		shift  time.Duration // exp and nbf move by this much from now
		ok     bool
	}{
		{"default leeway covers a 20s old expiry", 0, -20 * time.Second, true},
		{"default leeway refuses a 40s old expiry", 0, -40 * time.Second, false},
		{"default leeway covers a nbf 20s ahead", 0, 20 * time.Second, true},
		{"default leeway refuses a nbf 40s ahead", 0, 40 * time.Second, false},
		{"2m leeway covers a 90s old expiry", 2 * time.Minute, -90 * time.Second, true},
		{"2m leeway refuses a nbf 3m ahead", 2 * time.Minute, 3 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Leeway = tt.leeway }, rsa1)
			now := f.clock.Now()
			claims := with(f.claims(), "iat", nil, "nbf", nil)
			if tt.shift < 0 {
				claims["exp"] = now.Add(tt.shift).Unix()
			} else {
				claims["nbf"] = now.Add(tt.shift).Unix()
			}

			_, err := f.v.Verify(context.Background(), rsa1.sign(t, claims))
			if tt.ok && err != nil {
				t.Errorf("Verify: %v", err)
			}
			if !tt.ok && err == nil {
				t.Error("Verify accepted the token")
			}
		})
	}
}

func TestVerifyRoles(t *testing.T) {
	rsa1 := rsaKey(t, 0, "rsa-1")
	tests := []struct {
		name      string
		roleClaim string
		value     any
		want      map[string]string
	}{
		{"valid roles", "mediasign_roles",
			map[string]any{"vision": "editor", "audio": "viewer", "ops": "admin"},
			map[string]string{"vision": "editor", "audio": "viewer", "ops": "admin"}},
		{"invalid entries dropped", "mediasign_roles",
			map[string]any{
				"vision": "editor", "audio": "owner", "video": "Admin", "text": 3,
				"maps": []string{"viewer"}, "": "viewer", "misc": nil,
				"nested": map[string]any{"role": "admin"},
			},
			map[string]string{"vision": "editor"}},
		{"claim is not an object", "mediasign_roles", "admin", map[string]string{}},
		{"claim is a list", "mediasign_roles", []string{"admin"}, map[string]string{}},
		{"claim is absent", "other_claim", nil, map[string]string{}},
		{"no role claim configured", "", map[string]any{"vision": "admin"},
			map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.RoleClaim = tt.roleClaim }, rsa1)
			claims := with(f.claims(), "mediasign_roles", tt.value)

			got, err := f.v.Verify(context.Background(), rsa1.sign(t, claims))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !equalRoles(got.Roles, tt.want) {
				t.Errorf("roles = %v, want %v", got.Roles, tt.want)
			}
		})
	}
}

func equalRoles(a, b map[string]string) bool {
	if a == nil || len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if got, ok := a[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func TestVerifyMissingEmailAndNameOfOtherTypes(t *testing.T) {
	rsa1 := rsaKey(t, 0, "rsa-1")
	f := newFixture(t, nil, rsa1)
	claims := with(f.claims(), "email", 42, "name", nil)

	got, err := f.v.Verify(context.Background(), rsa1.sign(t, claims))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Email != "" || got.Name != "" || got.Subject != "user-1" {
		t.Errorf("claims = %+v", got)
	}
}

func TestVerifyAlgorithmAllowList(t *testing.T) {
	rsa1, ec1 := rsaKey(t, 0, "rsa-1"), ecKey(t, "ec-1")
	f := newFixture(t, func(c *Config) { c.Algorithms = []string{"ES256"} }, rsa1, ec1)

	_, err := f.v.Verify(context.Background(), ec1.sign(t, f.claims()))
	if err != nil {
		t.Fatalf("Verify ES256: %v", err)
	}

	token := rsa1.sign(t, f.claims())
	_, err = f.v.Verify(context.Background(), token)
	requireRefused(t, err, msgAlgorithm, token)
}

// unsigned returns a token with alg "none" and the given signature part.
func unsigned(t *testing.T, kid string, claims map[string]any, sig string) string {
	t.Helper()
	return b64(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`) + "." + b64JSON(t, claims) + "." + sig
}

// hmacToken returns an HS256 token keyed with key, as an attacker who only
// knows a public key would make it.
func hmacToken(t *testing.T, kid string, key []byte, claims map[string]any) string {
	t.Helper()
	input := b64(`{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`) + "." + b64JSON(t, claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func publicDER(t *testing.T, k testKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	return der
}

func publicPEM(t *testing.T, k testKey) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER(t, k)})
}

// flipSignatureByte returns token with one byte of its signature inverted.
func flipSignatureByte(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("decode signature: %v", err)
	}
	sig[len(sig)/2] ^= 0xff
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestVerifyEmailVerifiedAndIssueTime checks that email_verified counts
// only when it is true, and that the issue time is read when present.
func TestVerifyEmailVerifiedAndIssueTime(t *testing.T) {
	rsa1 := rsaKey(t, 0, "rsa-1")
	f := newFixture(t, nil, rsa1)
	base := f.claims()
	iat := time.Unix(base["iat"].(int64), 0)

	for _, tc := range []struct {
		value    any
		verified bool
	}{
		{nil, false}, {false, false}, {"false", false}, {1, false}, {"yes", false},
		{true, true}, {"true", true},
	} {
		got, err := f.v.Verify(context.Background(), rsa1.sign(t, with(base, "email_verified", tc.value)))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if got.EmailVerified != tc.verified {
			t.Errorf("email_verified %#v: EmailVerified = %v, want %v", tc.value, got.EmailVerified,
				tc.verified)
		}
		if !got.IssuedAt.Equal(iat) {
			t.Errorf("IssuedAt = %v, want %v", got.IssuedAt, iat)
		}
	}

	got, err := f.v.Verify(context.Background(), rsa1.sign(t, with(base, "iat", nil)))
	if err != nil {
		t.Fatalf("Verify without iat: %v", err)
	}
	if !got.IssuedAt.IsZero() {
		t.Errorf("IssuedAt without iat = %v, want zero", got.IssuedAt)
	}
}
