package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Prefixes mark mediasign's secrets so secret scanners can spot them.
const (
	// APITokenPrefix starts every API token.
	APITokenPrefix = "mst_"

	// apiTokenShown is how much of a token its listing shows.
	apiTokenShown = len(APITokenPrefix) + 6
)

// secretLen is the length of a random secret as base64url text (32 bytes).
const secretLen = 43

// newSecret returns 32 random bytes as unpadded base64url.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormed reports whether s looks like a secret made by newSecret, so
// malformed input is refused before it reaches the database.
func wellFormed(s string) bool {
	if len(s) != secretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// hashSecret returns the SHA-256 of a secret in hex. Secrets are 256 random
// bits, so a fast hash keeps them safe in a leaked database.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// SessionKey returns the key a session with the given ID is stored under,
// for code outside this package that looks a session up.
func SessionKey(id string) string { return hashSecret(id) }

// csrfFor returns the CSRF token of a session: an HMAC keyed with the
// session ID, so it is fixed for the session, reveals nothing of its ID and
// needs no storage.
func csrfFor(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("mediasign csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfMatches compares a token a client sent with the session's token in
// constant time.
func csrfMatches(sessionID, sent string) bool {
	return subtle.ConstantTimeCompare([]byte(csrfFor(sessionID)), []byte(sent)) == 1
}

// splitAPIToken returns the secret part of an API token, or false when the
// token is not one.
func splitAPIToken(token string) (string, bool) {
	secret, ok := strings.CutPrefix(token, APITokenPrefix)
	return secret, ok && wellFormed(secret)
}
