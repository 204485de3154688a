package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/customsigner"
)

// settingSignerSecret holds the SHA-256 of the secret that custom URL
// signers send to introspect sessions.
const settingSignerSecret = "signer_introspection_secret_sha256"

// SignerSecretPrefix starts every introspection secret, so secret scanners
// can spot them.
const SignerSecretPrefix = "mss_"

// validateSigner checks the custom signer settings of c, if any.
func validateSigner(c *mediasign.Connection) error {
	if c.Signer == nil {
		return nil
	}
	if c.Provider == mediasign.ProviderLocal {
		return mediasign.Invalidf("connection %q: a local connection cannot have a custom URL "+
			"signer, because mediasign serves its files itself: remove the signer settings", c.Name)
	}
	if err := customsigner.ValidateConfig(c.Signer); err != nil {
		return fmt.Errorf("connection %q: %w", c.Name, err)
	}
	return nil
}

// keepSigner applies an update to the custom signer settings: none sent
// keeps the stored ones, an empty url removes them, and a service token
// left empty keeps the stored one as long as the url stays the same, so the
// token never reaches another signer unless it is sent again.
func keepSigner(old, c *mediasign.Connection) error {
	switch {
	case c.Signer == nil:
		c.Signer = old.Signer
		return nil
	case c.Signer.URL == "":
		c.Signer = nil
		return nil
	case old.Signer == nil || c.Signer.ServiceToken != "" || old.Signer.ServiceToken == "":
		return nil
	}

	sent := *c.Signer
	if err := customsigner.ValidateConfig(&sent); err != nil {
		return fmt.Errorf("connection %q: %w", c.Name, err)
	}
	if sent.URL != old.Signer.URL {
		return mediasign.Invalidf("connection %q: the signer url changes from %q to %q: send "+
			"the service_token for the new signer too", old.Name, old.Signer.URL, sent.URL)
	}
	c.Signer.ServiceToken = old.Signer.ServiceToken
	return nil
}

// ResetSignerSecret makes a new secret for the session introspection
// endpoint, stores its hash, and returns it; the old one stops working.
func (s *Service) ResetSignerSecret(ctx context.Context) (string, error) {
	secret := SignerSecretPrefix + rand.Text()
	sum := sha256.Sum256([]byte(secret))
	if err := s.store.SetSetting(ctx, settingSignerSecret, hex.EncodeToString(sum[:])); err != nil {
		return "", fmt.Errorf("store signer introspection secret: %w", err)
	}
	return secret, nil
}

// CheckSignerSecret reports whether the introspection endpoint is enabled
// and whether secret is its secret, compared in constant time.
func (s *Service) CheckSignerSecret(ctx context.Context, secret string) (enabled, ok bool, err error) {
	want, err := s.store.Setting(ctx, settingSignerSecret)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	sum := sha256.Sum256([]byte(secret))
	got := hex.EncodeToString(sum[:])
	return true, subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1, nil
}
