// Package customsignertest helps test custom URL signers end to end: a
// mediasign HTTP API over SQLite, signers that misbehave on purpose, an
// OpenID Connect provider, and a log buffer. It is for tests only.
package customsignertest

import (
	"context"
	"sync"

	"github.com/mediasign/mediasign"
)

// Store is a state store that keeps the custom signer settings of
// connections beside the wrapped store, and records the URLs written to the
// persistent cache tier.
//
// TODO: the SQL store keeps only the s3 and local settings of a connection
// in its config column; once it keeps the signer settings too, this wrapper
// only needs to record cache writes.
type Store struct {
	mediasign.Store

	mu      sync.Mutex
	signers map[int64]*mediasign.SignerConfig
	puts    []mediasign.CachedURL
	memory  map[string]mediasign.CachedURL // nil: the wrapped store keeps cached URLs
}

// NewStore wraps st.
func NewStore(st mediasign.Store) *Store {
	return &Store{Store: st, signers: make(map[int64]*mediasign.SignerConfig)}
}

// CreateConnection stores c and its signer settings.
func (s *Store) CreateConnection(ctx context.Context, c *mediasign.Connection) error {
	if err := s.Store.CreateConnection(ctx, c); err != nil {
		return err
	}
	s.keep(c)
	return nil
}

// UpdateConnection stores c and its signer settings.
func (s *Store) UpdateConnection(ctx context.Context, c *mediasign.Connection) error {
	if err := s.Store.UpdateConnection(ctx, c); err != nil {
		return err
	}
	s.keep(c)
	return nil
}

func (s *Store) keep(c *mediasign.Connection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Signer == nil {
		delete(s.signers, c.ID)
		return
	}
	cfg := *c.Signer
	s.signers[c.ID] = &cfg
}

// Connection returns the connection with its signer settings.
func (s *Store) Connection(ctx context.Context, id int64) (*mediasign.Connection, error) {
	return s.fill(s.Store.Connection(ctx, id))
}

// ConnectionByName returns the connection with its signer settings.
func (s *Store) ConnectionByName(ctx context.Context, name string) (*mediasign.Connection, error) {
	return s.fill(s.Store.ConnectionByName(ctx, name))
}

// ListConnections returns the connections with their signer settings.
func (s *Store) ListConnections(ctx context.Context) ([]*mediasign.Connection, error) {
	cs, err := s.Store.ListConnections(ctx)
	for _, c := range cs {
		s.fill(c, nil)
	}
	return cs, err
}

func (s *Store) fill(c *mediasign.Connection, err error) (*mediasign.Connection, error) {
	if err != nil || c == nil {
		return c, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cfg, ok := s.signers[c.ID]; ok {
		copied := *cfg
		c.Signer = &copied
	}
	return c, nil
}

// PutCachedURL records u and stores it.
func (s *Store) PutCachedURL(ctx context.Context, u *mediasign.CachedURL) error {
	s.mu.Lock()
	s.puts = append(s.puts, *u)
	if s.memory != nil {
		s.memory[u.Key] = *u
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	return s.Store.PutCachedURL(ctx, u)
}

// CacheWrites returns the URLs written to the persistent cache tier so far.
func (s *Store) CacheWrites() []mediasign.CachedURL {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mediasign.CachedURL(nil), s.puts...)
}

// MemoryURLCache makes the persistent cache tier of s a map in memory, for
// benchmarks that measure everything but the database.
func (s *Store) MemoryURLCache() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.memory = make(map[string]mediasign.CachedURL)
}

// CachedURL returns the entry for key.
func (s *Store) CachedURL(ctx context.Context, key string) (*mediasign.CachedURL, error) {
	s.mu.Lock()
	if s.memory != nil {
		u, ok := s.memory[key]
		s.mu.Unlock()
		if !ok {
			return nil, mediasign.ErrNotFound
		}
		return &u, nil
	}
	s.mu.Unlock()
	return s.Store.CachedURL(ctx, key)
}
