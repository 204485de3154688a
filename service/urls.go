package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/customsigner"
	"github.com/mediasign/mediasign/urlcache"
)

// MaxBatch is the most media ids one batch request may ask for.
const MaxBatch = 1000

// batchWorkers bounds how many URLs of one batch are resolved at once.
const batchWorkers = 16

// Variant names which object of a media file a URL is for.
type Variant string

// Variants of a media file.
const (
	Original Variant = ""
	Thumb    Variant = "thumb"
)

// ParseVariant parses the variant parameter of a request.
func ParseVariant(s string) (Variant, error) {
	switch s {
	case "", "original":
		return Original, nil
	case "thumb":
		return Thumb, nil
	}
	return "", mediasign.Invalidf("variant %q is not known: use thumb, or leave it out", s)
}

// MediaURLs are the URLs of one media file.
type MediaURLs struct {
	ID             int64
	URL            string
	ExpiresAt      time.Time
	ThumbURL       string
	ThumbExpiresAt time.Time

	// Stale reports that a URL was served below the minimum validity
	// because its signer failed.
	Stale bool
}

// BatchItem is the answer for one id of a batch: URLs or an error.
type BatchItem struct {
	ID   int64
	URLs MediaURLs
	Err  error
}

// MediaURLs returns the URLs of the media file with id, and of its thumbnail
// when it has one.
func (s *Service) MediaURLs(ctx context.Context, id int64) (MediaURLs, error) {
	m, err := s.store.Media(ctx, id)
	if err != nil {
		return MediaURLs{}, err
	}
	return s.urlsOf(ctx, m)
}

func (s *Service) urlsOf(ctx context.Context, m *mediasign.MediaRef) (MediaURLs, error) {
	out := MediaURLs{ID: m.ID}
	r, err := s.objectURL(ctx, m, m.Key)
	if err != nil {
		return MediaURLs{}, err
	}
	out.URL, out.ExpiresAt, out.Stale = r.URL, r.ExpiresAt, r.Stale

	if m.ThumbKey != "" {
		t, err := s.objectURL(ctx, m, m.ThumbKey)
		if err != nil {
			return MediaURLs{}, err
		}
		out.ThumbURL, out.ThumbExpiresAt = t.URL, t.ExpiresAt
		out.Stale = out.Stale || t.Stale
	}
	return out, nil
}

// VariantURL returns one URL of the media file with id.
func (s *Service) VariantURL(ctx context.Context, id int64, v Variant) (urlcache.Result, error) {
	m, err := s.store.Media(ctx, id)
	if err != nil {
		return urlcache.Result{}, err
	}
	key := m.Key
	if v == Thumb {
		if m.ThumbKey == "" {
			return urlcache.Result{}, mediasign.NotFoundf("media %d has no thumbnail", id)
		}
		key = m.ThumbKey
	}
	return s.objectURL(ctx, m, key)
}

// BatchURLs answers each id in order, resolving several at once.
func (s *Service) BatchURLs(ctx context.Context, ids []int64) ([]BatchItem, error) {
	if len(ids) > MaxBatch {
		return nil, mediasign.Invalidf("a batch holds at most %d ids; this one has %d: "+
			"split it", MaxBatch, len(ids))
	}
	refs, err := s.store.MediaBatch(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*mediasign.MediaRef, len(refs))
	for _, m := range refs {
		byID[m.ID] = m
	}

	// A custom signer gets every URL of the batch, thumbnails too, at once,
	// so that its client can merge them into batch calls.
	workers := s.fanOut(ctx, refs)
	if workers >= len(refs) {
		workers *= 2
	}
	return s.resolveBatch(ctx, ids, byID, workers), nil
}

// objectURL returns a cached or new GET URL for one object of a media
// file's connection.
func (s *Service) objectURL(ctx context.Context, m *mediasign.MediaRef, key string) (urlcache.Result, error) {
	c, st, err := s.storageOf(ctx, m)
	if err != nil {
		return urlcache.Result{}, err
	}
	scope := cacheScope(ctx, c, st)
	ck := cacheKey(scope, m.ConnectionID, m.ConnectionRevision, mediasign.MethodGet, m.Bucket, key)
	return s.cache.Get(ctx, ck, func(ctx context.Context, validFor time.Duration) (mediasign.SignedURL, error) {
		req := mediasign.SignRequest{Bucket: m.Bucket, Key: key, Method: mediasign.MethodGet,
			Expires: validFor}
		return s.signOn(ctx, c, st, req)
	})
}

// cacheScope returns what, besides the connection and the object, a URL
// depends on: the storage's own scope and, for a custom signer that decides
// per user, the caller.
func cacheScope(ctx context.Context, c *mediasign.Connection, st mediasign.Storage) string {
	var scope string
	if sc, ok := st.(mediasign.CacheScoper); ok {
		scope = sc.CacheScope()
	}
	if c.Signer != nil {
		scope += "|signer:" + customsigner.CacheScope(ctx, c.Signer)
	}
	return scope
}

// fanOut returns how many URLs of a batch are resolved at once: a few for
// built-in signing, which is CPU work, and the whole batch when a custom
// signer is asked, whose client bounds the calls in flight and merges keys
// into batch calls.
func (s *Service) fanOut(ctx context.Context, refs []*mediasign.MediaRef) int {
	seen := make(map[int64]bool)
	for _, m := range refs {
		if seen[m.ConnectionID] {
			continue
		}
		seen[m.ConnectionID] = true
		if c, _, err := s.storageOf(ctx, m); err == nil && c.Signer != nil {
			return max(len(refs), batchWorkers)
		}
	}
	return batchWorkers
}

// storageOf returns the open storage of a media file's connection, loading
// the connection only when its revision is not open yet.
func (s *Service) storageOf(ctx context.Context, m *mediasign.MediaRef) (*mediasign.Connection, mediasign.Storage, error) {
	if c, st, ok := s.storages.cached(m.ConnectionID, m.ConnectionRevision); ok {
		return c, st, nil
	}
	c, err := s.store.Connection(ctx, m.ConnectionID)
	if err != nil {
		return nil, nil, fmt.Errorf("load connection of media %d: %w", m.ID, err)
	}
	st, err := s.storages.get(c)
	return c, st, err
}

// cacheKey identifies a URL: the cache scope, the connection and its revision, the method
// and the object, with lengths so no two inputs give the same key.
func cacheKey(scope string, connID, revision int64, method mediasign.Method, bucket, key string) string {
	b := make([]byte, 0, 64+len(scope)+len(bucket)+len(key))
	b = strconv.AppendInt(b, int64(len(scope)), 10)
	b = append(b, ':')
	b = append(b, scope...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, connID, 10)
	b = append(b, '@')
	b = strconv.AppendInt(b, revision, 10)
	b = append(b, ' ')
	b = append(b, method...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(bucket)), 10)
	b = append(b, ':')
	b = append(b, bucket...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(key)), 10)
	b = append(b, ':')
	b = append(b, key...)
	return string(b)
}

// Sign signs one URL on the connection called name, without the cache, for
// as long as req.Expires says.
func (s *Service) Sign(ctx context.Context, name string, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	c, err := s.store.ConnectionByName(ctx, name)
	if err != nil {
		return mediasign.SignedURL{}, err
	}
	return s.sign(ctx, c, req)
}

func (s *Service) sign(ctx context.Context, c *mediasign.Connection, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	st, err := s.storages.get(c)
	if err != nil {
		return mediasign.SignedURL{}, err
	}
	return s.signOn(ctx, c, st, req)
}

// signOn signs with the open storage of connection c and counts it.
func (s *Service) signOn(ctx context.Context, c *mediasign.Connection, st mediasign.Storage,
	req mediasign.SignRequest) (mediasign.SignedURL, error) {
	start := time.Now()
	u, err := st.SignURL(ctx, req)
	s.metrics.Signed(string(c.Provider), time.Since(start).Seconds(), err)
	if err != nil {
		return mediasign.SignedURL{}, fmt.Errorf("sign url on connection %q: %w", c.Name, err)
	}
	return u, nil
}
