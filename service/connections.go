package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/urlcache"
)

// AddConnection validates c, checks that the cache policy fits its provider
// and stores it.
func (s *Service) AddConnection(ctx context.Context, c *mediasign.Connection) error {
	if err := s.validateConnection(c); err != nil {
		return err
	}
	return s.store.CreateConnection(ctx, c)
}

// UpdateConnection replaces the settings of the connection called name with
// those of c. A secret left empty keeps its stored value when the access key
// stays the same; a new access key needs its own secret.
func (s *Service) UpdateConnection(ctx context.Context, name string, c *mediasign.Connection) error {
	old, err := s.store.ConnectionByName(ctx, name)
	if err != nil {
		return err
	}
	if c.Provider == "" {
		c.Provider = old.Provider
	}
	if c.Provider != old.Provider {
		return mediasign.Invalidf("connection %q is of provider %s and cannot become %s: "+
			"add a new connection instead", name, old.Provider, c.Provider)
	}
	if err := keepSecrets(old, c); err != nil {
		return err
	}
	if err := keepSigner(old, c); err != nil {
		return err
	}

	c.ID = old.ID
	c.CreatedAt = old.CreatedAt
	if err := s.validateConnection(c); err != nil {
		return err
	}
	return s.store.UpdateConnection(ctx, c)
}

// keepSecrets fills the secrets c leaves empty from old, as long as they
// belong to the same access key. A kept session token keeps its expiry too,
// so expires_at stays honest.
func keepSecrets(old, c *mediasign.Connection) error {
	if old.S3 == nil || c.S3 == nil {
		return nil
	}
	sameKey := c.S3.AccessKeyID == old.S3.AccessKeyID
	if c.S3.SecretAccessKey == "" {
		if !sameKey {
			return mediasign.Invalidf("connection %q: access_key_id changes from %q to %q: "+
				"send the secret_access_key of the new key too", old.Name, old.S3.AccessKeyID,
				c.S3.AccessKeyID)
		}
		c.S3.SecretAccessKey = old.S3.SecretAccessKey
	}
	if c.S3.SessionToken == "" && sameKey && old.S3.SessionToken != "" {
		c.S3.SessionToken = old.S3.SessionToken
		if c.S3.CredentialsExpireAt == nil {
			c.S3.CredentialsExpireAt = old.S3.CredentialsExpireAt
		}
	}
	return nil
}

func (s *Service) validateConnection(c *mediasign.Connection) error {
	if err := ValidateName("connection", c.Name); err != nil {
		return err
	}
	d, err := s.storages.driver(c.Provider)
	if err != nil {
		return err
	}
	if err := d.Validate(c); err != nil {
		return err
	}
	if err := validateSigner(c); err != nil {
		return err
	}

	if err := s.checkCredentialExpiry(c); err != nil {
		return err
	}

	st, err := d.Open(c)
	if err != nil {
		return err
	}
	return s.fitsPolicy(c, st)
}

// checkCredentialExpiry refuses temporary credentials that have already
// expired, and warns when they expire too soon for any URL to be cached.
func (s *Service) checkCredentialExpiry(c *mediasign.Connection) error {
	if c.S3 == nil || c.S3.CredentialsExpireAt == nil {
		return nil
	}
	now := s.clock.Now()
	exp := *c.S3.CredentialsExpireAt
	if !exp.After(now) {
		return mediasign.Invalidf("connection %q: its credentials expired at %s: "+
			"send fresh credentials with their credentials_expire_at", c.Name, exp.UTC().Format(time.RFC3339))
	}
	if p := s.cache.Policy(); exp.Sub(now) < p.MinValid {
		s.logger.Warn("credentials expire before cached urls could be served",
			"connection", c.Name, "credentials_expire_at", exp.UTC(), "min_valid_seconds", int64(p.MinValid.Seconds()))
	}
	return nil
}

// fitsPolicy refuses a connection whose provider cannot sign URLs as long as
// the cache policy asks.
func (s *Service) fitsPolicy(c *mediasign.Connection, st mediasign.Storage) error {
	p := s.cache.Policy()
	if p.NewValid > st.MaxExpiry() {
		return mediasign.Invalidf("connection %q: %s URLs are valid for at most %s, but %s asks "+
			"for %s: lower %s to at most %d", c.Name, c.Provider, seconds(st.MaxExpiry()),
			urlcache.EnvNewValid, seconds(p.NewValid), urlcache.EnvNewValid,
			int64(st.MaxExpiry().Seconds()))
	}
	return nil
}

// CheckPolicy checks every stored connection against the cache policy, so a
// changed setting is caught at start-up rather than on the first request.
func (s *Service) CheckPolicy(ctx context.Context) error {
	conns, err := s.store.ListConnections(ctx)
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	var errs []error
	for _, c := range conns {
		st, err := s.storages.get(c)
		if err == nil {
			err = s.fitsPolicy(c, st)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Connection returns the connection called name.
func (s *Service) Connection(ctx context.Context, name string) (*mediasign.Connection, error) {
	return s.store.ConnectionByName(ctx, name)
}

// Connections returns every connection.
func (s *Service) Connections(ctx context.Context) ([]*mediasign.Connection, error) {
	return s.store.ListConnections(ctx)
}

// TestConnection checks that the connection called name reaches its storage
// and, when bucket is given, that bucket.
func (s *Service) TestConnection(ctx context.Context, name, bucket string) error {
	c, err := s.store.ConnectionByName(ctx, name)
	if err != nil {
		return err
	}
	st, err := s.storages.get(c)
	if err != nil {
		return err
	}
	return st.Check(ctx, bucket)
}
