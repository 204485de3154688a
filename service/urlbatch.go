package service

import (
	"context"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/urlcache"
)

// batchObject is one URL that a batch request needs: the original or the
// thumbnail of the media file of item.
type batchObject struct {
	item    int
	thumb   bool
	ref     *mediasign.MediaRef
	key     string
	conn    *mediasign.Connection
	storage mediasign.Storage
}

// resolveBatch answers the ids of a batch whose media files are in byID:
// it opens each file's connection, and resolves all their URLs with one
// batch lookup of the cache, as single requests would resolve each.
func (s *Service) resolveBatch(ctx context.Context, ids []int64,
	byID map[int64]*mediasign.MediaRef, workers int) []BatchItem {
	items := make([]BatchItem, len(ids))
	var objs []batchObject
	var keys []string
	for i, id := range ids {
		items[i].ID = id
		m, ok := byID[id]
		if !ok {
			items[i].Err = mediasign.NotFoundf("media %d not found", id)
			continue
		}
		c, st, err := s.storageOf(ctx, m)
		if err != nil {
			items[i].Err = err
			continue
		}

		scope := cacheScope(ctx, c, st)
		for _, o := range objectsOf(i, m, c, st) {
			objs = append(objs, o)
			keys = append(keys, cacheKey(scope, m.ConnectionID, m.ConnectionRevision,
				mediasign.MethodGet, m.Bucket, o.key))
		}
	}

	results, errs := s.cache.GetMany(ctx, keys, max(workers, 1),
		func(ctx context.Context, n int, validFor time.Duration) (mediasign.SignedURL, error) {
			o := objs[n]
			req := mediasign.SignRequest{Bucket: o.ref.Bucket, Key: o.key,
				Method: mediasign.MethodGet, Expires: validFor}
			return s.signOn(ctx, o.conn, o.storage, req)
		})
	fillBatch(items, objs, results, errs)
	return items
}

// objectsOf lists the URLs item i needs: its original, then its thumbnail
// when it has one.
func objectsOf(i int, m *mediasign.MediaRef, c *mediasign.Connection,
	st mediasign.Storage) []batchObject {
	objs := []batchObject{{item: i, ref: m, key: m.Key, conn: c, storage: st}}
	if m.ThumbKey != "" {
		objs = append(objs, batchObject{item: i, thumb: true, ref: m, key: m.ThumbKey, conn: c,
			storage: st})
	}
	return objs
}

// fillBatch puts the resolved URLs into their items. An item fails with
// the error of its original when that failed, else with its thumbnail's,
// and then carries no URL, as a single request would answer it.
func fillBatch(items []BatchItem, objs []batchObject, results []urlcache.Result,
	errs []error) {
	for n, o := range objs {
		it := &items[o.item]
		if it.Err != nil {
			continue
		}
		if errs[n] != nil {
			it.Err, it.URLs = errs[n], MediaURLs{}
			continue
		}

		r := results[n]
		it.URLs.ID = it.ID
		if o.thumb {
			it.URLs.ThumbURL, it.URLs.ThumbExpiresAt = r.URL, r.ExpiresAt
		} else {
			it.URLs.URL, it.URLs.ExpiresAt = r.URL, r.ExpiresAt
		}
		it.URLs.Stale = it.URLs.Stale || r.Stale
	}
}
