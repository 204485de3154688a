// Package auth decides who may call the API. Until users and sessions
// arrive, one admin token, stored hashed, opens the whole API.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mediasign/mediasign"
)

// settingAdminToken is the setting that holds the SHA-256 of the token.
const settingAdminToken = "admin_token_sha256"

// tokenPrefix marks mediasign admin tokens so they are easy to spot in
// secret scanners.
const tokenPrefix = "msa_"

// AdminToken checks requests against the stored admin token hash.
type AdminToken struct {
	hash [sha256.Size]byte
}

// SetupAdminToken makes sure an admin token exists. A token given in the
// environment replaces the stored hash. With none given and none stored, it
// makes one and returns it so the caller can show it once; otherwise the
// returned token is empty.
func SetupAdminToken(ctx context.Context, st mediasign.SettingStore, fromEnv string) (*AdminToken, string, error) {
	if fromEnv != "" {
		h := sha256.Sum256([]byte(fromEnv))
		if err := st.SetSetting(ctx, settingAdminToken, hex.EncodeToString(h[:])); err != nil {
			return nil, "", fmt.Errorf("store admin token hash: %w", err)
		}
		return &AdminToken{hash: h}, "", nil
	}

	fresh, err := newToken()
	if err != nil {
		return nil, "", err
	}
	h := sha256.Sum256([]byte(fresh))
	stored, err := st.SetSettingIfAbsent(ctx, settingAdminToken, hex.EncodeToString(h[:]))
	if err != nil {
		return nil, "", fmt.Errorf("store admin token hash: %w", err)
	}
	if stored {
		return &AdminToken{hash: h}, fresh, nil
	}

	a, err := LoadAdminToken(ctx, st)
	return a, "", err
}

// LoadAdminToken reads the stored admin token hash.
func LoadAdminToken(ctx context.Context, st mediasign.SettingStore) (*AdminToken, error) {
	v, err := st.Setting(ctx, settingAdminToken)
	if err != nil {
		return nil, fmt.Errorf("read admin token hash: %w", err)
	}
	raw, err := hex.DecodeString(v)
	if err != nil || len(raw) != sha256.Size {
		return nil, errors.New("read admin token hash: stored value is not a SHA-256 hex digest")
	}
	a := &AdminToken{}
	copy(a.hash[:], raw)
	return a, nil
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate admin token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Check reports whether r carries the admin token as a bearer token.
func (a *AdminToken) Check(r *http.Request) error {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &mediasign.Error{Code: mediasign.CodeUnauthorized,
			Message: "this endpoint needs the admin token: send 'Authorization: Bearer <token>'"}
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return &mediasign.Error{Code: mediasign.CodeUnauthorized,
			Message: "malformed Authorization header: send 'Authorization: Bearer <token>'"}
	}

	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(got[:], a.hash[:]) != 1 {
		return &mediasign.Error{Code: mediasign.CodeUnauthorized, Message: "the admin token is not valid"}
	}
	return nil
}

// ResetAdminToken replaces the stored admin token with a new one and
// returns it.
func ResetAdminToken(ctx context.Context, st mediasign.SettingStore) (string, error) {
	token, err := newToken()
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(token))
	if err := st.SetSetting(ctx, settingAdminToken, hex.EncodeToString(h[:])); err != nil {
		return "", fmt.Errorf("store admin token hash: %w", err)
	}
	return token, nil
}
