package customsigner

import (
	"context"
	"sync"

	"github.com/mediasign/mediasign"
)

// Registry keeps one client per connection, so the breaker, the call slots
// and the idle connections of a signer are shared by every request to it.
// A connection's new revision gets a new client.
type Registry struct {
	opts Options

	mu      sync.Mutex
	clients map[int64]registered
}

type registered struct {
	revision int64
	client   *Client
}

// NewRegistry returns an empty registry whose clients use opts.
func NewRegistry(opts Options) *Registry {
	return &Registry{opts: opts, clients: make(map[int64]registered)}
}

// Client returns the client of connection c, which must have a signer.
func (r *Registry) Client(c *mediasign.Connection) (*Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	old, ok := r.clients[c.ID]
	if ok && old.revision == c.Revision {
		return old.client, nil
	}
	cl, err := New(c.Name, *c.Signer, r.opts)
	if err != nil {
		return nil, err
	}
	if ok && old.revision < c.Revision {
		old.client.Close()
	}
	r.clients[c.ID] = registered{revision: c.Revision, client: cl}
	return cl, nil
}

// Wrap returns st with its URLs signed by the custom signer of c; listing
// and checks stay with st. A connection without a signer gets st back.
func (r *Registry) Wrap(c *mediasign.Connection, st mediasign.Storage) (mediasign.Storage, error) {
	if c.Signer == nil {
		return st, nil
	}
	cl, err := r.Client(c)
	if err != nil {
		return nil, err
	}
	return &Storage{Storage: st, Client: cl}, nil
}

// Storage is a connection's storage whose URLs come from its custom
// signer.
type Storage struct {
	mediasign.Storage
	Client *Client
}

var _ mediasign.Storage = (*Storage)(nil)

// SignURL asks the custom signer, on behalf of the caller of ctx.
func (s *Storage) SignURL(ctx context.Context, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	return s.Client.Sign(ctx, req)
}
