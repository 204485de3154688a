// Package customsignertest helps test custom URL signers end to end: a
// mediasign HTTP API over SQLite, signers that misbehave on purpose, an
// OpenID Connect provider, and a log buffer. It is for tests only.
package customsignertest

import (
	"context"
	"sync"

	"github.com/mediasign/mediasign"
)

// Store is a state store that records the URLs written to the persistent
// cache tier, and can keep that tier in memory for benchmarks.
type Store struct {
	mediasign.Store

	mu     sync.Mutex
	puts   []mediasign.CachedURL
	memory map[string]mediasign.CachedURL // nil: the wrapped store keeps cached URLs
}

var _ mediasign.URLCacheBatchStore = (*Store)(nil)

// NewStore wraps st.
func NewStore(st mediasign.Store) *Store {
	return &Store{Store: st}
}

// PutCachedURL records u and stores it.
func (s *Store) PutCachedURL(ctx context.Context, u *mediasign.CachedURL) error {
	if s.record(u) {
		return nil
	}
	return s.Store.PutCachedURL(ctx, u)
}

// PutCachedURLs records us and stores them in one transaction when the
// wrapped store can.
func (s *Store) PutCachedURLs(ctx context.Context, us []*mediasign.CachedURL) error {
	inMemory := false
	for _, u := range us {
		inMemory = s.record(u)
	}
	if inMemory {
		return nil
	}
	if b, ok := s.Store.(mediasign.URLCacheBatchStore); ok {
		return b.PutCachedURLs(ctx, us)
	}
	for _, u := range us {
		if err := s.Store.PutCachedURL(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// record notes a write and keeps it in memory when the tier is there; it
// reports whether it was.
func (s *Store) record(u *mediasign.CachedURL) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts = append(s.puts, *u)
	if s.memory == nil {
		return false
	}
	s.memory[u.Key] = *u
	return true
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

// CachedURLs returns the entries stored under keys, in one read when the
// wrapped store can.
func (s *Store) CachedURLs(ctx context.Context, keys []string) ([]*mediasign.CachedURL, error) {
	s.mu.Lock()
	if s.memory != nil {
		var out []*mediasign.CachedURL
		for _, k := range keys {
			if u, ok := s.memory[k]; ok {
				out = append(out, &u)
			}
		}
		s.mu.Unlock()
		return out, nil
	}
	s.mu.Unlock()

	if b, ok := s.Store.(mediasign.URLCacheBatchStore); ok {
		return b.CachedURLs(ctx, keys)
	}
	var out []*mediasign.CachedURL
	for _, k := range keys {
		u, err := s.Store.CachedURL(ctx, k)
		if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
