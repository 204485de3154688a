// Package s3 is the storage provider for Amazon S3 and S3-compatible
// servers: it signs SigV4 presigned URLs, lists buckets and checks that a
// connection works.
package s3

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mediasign/mediasign"
)

// MaxExpiry is the longest validity S3 accepts for a presigned URL (7 days).
const MaxExpiry = 604800 * time.Second

const defaultListPageSize = 1000

// Options holds what New needs besides the connection.
type Options struct {
	// Clock gives the signing time; the wall clock when nil.
	Clock mediasign.Clock

	// HTTPClient sends List and Check requests; the SDK's client when nil.
	// Signing never sends anything.
	HTTPClient *http.Client

	// Logger receives debug lines; nothing is logged when nil.
	Logger *slog.Logger

	// ListPageSize is how many keys List asks for per page; 1000 when zero.
	ListPageSize int32
}

// Storage is an open S3 connection.
type Storage struct {
	cfg      mediasign.S3Config
	clock    mediasign.Clock
	log      *slog.Logger
	signer   presigner
	api      *apiClient
	pageSize int32
}

var _ mediasign.Storage = (*Storage)(nil)

// New opens an S3 connection. It validates a copy of the connection's
// settings; the connection itself is not changed.
func New(conn *mediasign.Connection, opts Options) (*Storage, error) {
	if conn == nil || conn.Provider != mediasign.ProviderS3 {
		return nil, mediasign.Invalidf("connection is not an s3 connection")
	}
	if conn.S3 == nil {
		return nil, mediasign.Invalidf("connection %q has no s3 settings", conn.Name)
	}

	cfg := *conn.S3
	if err := ValidateConfig(&cfg); err != nil {
		return nil, fmt.Errorf("validate connection %q: %w", conn.Name, err)
	}

	signer, err := newSigner(&cfg)
	if err != nil {
		return nil, fmt.Errorf("set up signing for connection %q: %w", conn.Name, err)
	}

	s := &Storage{
		cfg:      cfg,
		clock:    opts.Clock,
		log:      opts.Logger,
		signer:   engine{signer},
		pageSize: opts.ListPageSize,
	}
	if s.clock == nil {
		s.clock = mediasign.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.pageSize <= 0 {
		s.pageSize = defaultListPageSize
	}
	s.log = s.log.With("provider", "s3", "connection", conn.Name)
	s.api = newAPIClient(&s.cfg, opts.HTTPClient)
	return s, nil
}

// MaxExpiry returns the longest validity S3 accepts, 604800 seconds.
func (s *Storage) MaxExpiry() time.Duration { return MaxExpiry }
