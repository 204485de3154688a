package service

import (
	"fmt"
	"sync"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/customsigner"
)

// Driver opens and validates connections of one provider.
type Driver struct {
	// Validate checks and normalizes a connection's settings before it is
	// saved.
	Validate func(c *mediasign.Connection) error

	// Open returns the storage of a valid connection.
	Open func(c *mediasign.Connection) (mediasign.Storage, error)
}

// Drivers maps each provider to its driver.
type Drivers map[mediasign.Provider]Driver

// storages keeps one open storage per connection revision.
type storages struct {
	drivers Drivers
	signers *customsigner.Registry
	mu      sync.Mutex
	open    map[int64]openStorage
}

type openStorage struct {
	revision int64
	storage  mediasign.Storage
	conn     *mediasign.Connection
}

func newStorages(d Drivers, signers *customsigner.Registry) *storages {
	return &storages{drivers: d, signers: signers, open: make(map[int64]openStorage)}
}

func (s *storages) driver(p mediasign.Provider) (Driver, error) {
	d, ok := s.drivers[p]
	if !ok {
		return Driver{}, mediasign.Invalidf("unknown provider %q: use one of s3, local", p)
	}
	return d, nil
}

// cached returns the connection and open storage of a connection revision,
// if it is open.
func (s *storages) cached(connID, revision int64) (*mediasign.Connection, mediasign.Storage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.open[connID]
	return o.conn, o.storage, ok && o.revision == revision
}

// get returns the storage of c, opening it when c is new or changed.
func (s *storages) get(c *mediasign.Connection) (mediasign.Storage, error) {
	s.mu.Lock()
	o, ok := s.open[c.ID]
	s.mu.Unlock()
	if ok && o.revision == c.Revision {
		return o.storage, nil
	}

	d, err := s.driver(c.Provider)
	if err != nil {
		return nil, err
	}
	st, err := d.Open(c)
	if err != nil {
		return nil, fmt.Errorf("open connection %q: %w", c.Name, err)
	}
	// URLs of a connection with a custom signer come from the signer.
	if st, err = s.signers.Wrap(c, st); err != nil {
		return nil, fmt.Errorf("open the custom signer of connection %q: %w", c.Name, err)
	}

	s.mu.Lock()
	s.open[c.ID] = openStorage{revision: c.Revision, storage: st, conn: c}
	s.mu.Unlock()
	return st, nil
}
