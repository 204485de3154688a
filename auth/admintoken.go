// Package auth decides who sent a request and what they may do: local users
// with passwords and browser sessions, OAuth2 bearer tokens, API tokens of
// one project, and an optional installation admin token for automation.
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

// SetupAdminToken returns the admin token in force, or nil when there is
// none. A token given in the environment replaces the stored hash; without
// one, a token stored by ResetAdminToken is used. No token is made when
// neither exists: the installation admin signs in as a user.
func SetupAdminToken(ctx context.Context, st mediasign.SettingStore, fromEnv string) (*AdminToken, error) {
	if fromEnv != "" {
		h := sha256.Sum256([]byte(fromEnv))
		if err := st.SetSetting(ctx, settingAdminToken, hex.EncodeToString(h[:])); err != nil {
			return nil, fmt.Errorf("store admin token hash: %w", err)
		}
		return &AdminToken{hash: h}, nil
	}

	a, err := LoadAdminToken(ctx, st)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return nil, nil
	}
	return a, err
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

// Matches reports, in constant time, whether token is the admin token.
func (a *AdminToken) Matches(token string) bool {
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], a.hash[:]) == 1
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
