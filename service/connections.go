package service

import (
	"context"
	"fmt"

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
// those of c. Secrets left empty in c keep their stored values.
func (s *Service) UpdateConnection(ctx context.Context, name string, c *mediasign.Connection) error {
	old, err := s.store.ConnectionByName(ctx, name)
	if err != nil {
		return err
	}
	if c.Provider != old.Provider {
		return mediasign.Invalidf("connection %q is of provider %s and cannot become %s: "+
			"add a new connection instead", name, old.Provider, c.Provider)
	}
	keepSecrets(old, c)

	c.ID = old.ID
	if err := s.validateConnection(c); err != nil {
		return err
	}
	return s.store.UpdateConnection(ctx, c)
}

func keepSecrets(old, c *mediasign.Connection) {
	if old.S3 == nil || c.S3 == nil {
		return
	}
	if c.S3.SecretAccessKey == "" {
		c.S3.SecretAccessKey = old.S3.SecretAccessKey
	}
	if c.S3.SessionToken == "" && c.S3.AccessKeyID == old.S3.AccessKeyID {
		c.S3.SessionToken = old.S3.SessionToken
	}
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

	st, err := d.Open(c)
	if err != nil {
		return err
	}
	return s.fitsPolicy(c, st)
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
	for _, c := range conns {
		st, err := s.storages.get(c)
		if err != nil {
			return err
		}
		if err := s.fitsPolicy(c, st); err != nil {
			return err
		}
	}
	return nil
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
