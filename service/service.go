// Package service holds mediasign's use cases: connections, the catalog,
// imports and signed URLs, over a store, the storage drivers and the URL
// cache.
package service

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/customsigner"
	"github.com/mediasign/mediasign/metrics"
	"github.com/mediasign/mediasign/urlcache"
)

// Options configures a Service.
type Options struct {
	Store   mediasign.Store
	Drivers Drivers
	Cache   *urlcache.Cache
	Clock   mediasign.Clock
	Logger  *slog.Logger
	Metrics *metrics.Metrics

	// Signers holds the clients of custom URL signers; nil means a registry
	// with default settings.
	Signers *customsigner.Registry
}

// Service runs mediasign's use cases.
type Service struct {
	store    mediasign.Store
	storages *storages
	cache    *urlcache.Cache
	clock    mediasign.Clock
	logger   *slog.Logger
	metrics  *metrics.Metrics
}

// New returns a service wired from opts.
func New(opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Signers == nil {
		opts.Signers = customsigner.NewRegistry(customsigner.Options{Clock: opts.Clock,
			Logger: opts.Logger})
	}
	return &Service{store: opts.Store, storages: newStorages(opts.Drivers, opts.Signers), cache: opts.Cache,
		clock: opts.Clock, logger: opts.Logger, metrics: opts.Metrics}
}

// Store returns the state store.
func (s *Service) Store() mediasign.Store { return s.store }

// Policy returns the cache policy in force.
func (s *Service) Policy() urlcache.Policy { return s.cache.Policy() }

// namePattern is what connection, project and dataset names look like.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateName checks a connection, project or dataset name.
func ValidateName(kind, name string) error {
	if !namePattern.MatchString(name) {
		return mediasign.Invalidf("%s name %q is not valid: use 1 to 64 letters, digits, "+
			"'.', '_' or '-', starting with a letter or digit", kind, name)
	}
	return nil
}

// ParseID parses a positive decimal id given for what.
func ParseID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, mediasign.Invalidf("%s id %q is not valid: give a positive whole number", what, s)
	}
	return id, nil
}

// seconds formats d as whole seconds for messages.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%d s", int64(d/time.Second))
}
