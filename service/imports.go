package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/mediatype"
)

// ImportRequest says which objects to add to a dataset.
type ImportRequest struct {
	DatasetID  int64
	Connection string
	Bucket     string
	Prefix     string

	// ThumbPrefix, when set, names where thumbnails live: the thumbnail of
	// Prefix+"x.jpg" is ThumbPrefix+"x.jpg" when that object exists.
	ThumbPrefix string

	// AllFiles imports every object, not only images, video, audio and PDF.
	AllFiles bool
}

// ImportResult counts what an import saw and did.
type ImportResult struct {
	Listed  int `json:"listed"`
	Added   int `json:"added"`
	Skipped int `json:"skipped"`
}

// Import lists the objects under a prefix and adds those the dataset does
// not hold yet. The listing completes before anything is written, so a
// failure leaves the catalog as it was.
func (s *Service) Import(ctx context.Context, req ImportRequest) (ImportResult, error) {
	c, st, err := s.importTarget(ctx, req)
	if err != nil {
		return ImportResult{}, err
	}

	thumbs, err := s.listThumbs(ctx, st, req)
	if err != nil {
		return ImportResult{}, err
	}

	var (
		res   ImportResult
		files []mediasign.MediaFile
	)
	err = st.List(ctx, req.Bucket, req.Prefix, func(page []mediasign.Object) error {
		for _, o := range page {
			res.Listed++
			f, ok := s.mediaFile(c, req, o, thumbs)
			if !ok {
				res.Skipped++
				continue
			}
			files = append(files, f)
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("list %s: %w", describe(req), err)
	}

	// TODO: imports of many millions of objects hold the listing in memory;
	// a staging table would let them stream and still commit atomically.
	res.Added, err = s.store.AddMedia(ctx, files)
	if err != nil {
		return ImportResult{}, fmt.Errorf("add media from %s: %w", describe(req), err)
	}
	res.Skipped += len(files) - res.Added
	s.metrics.Imported(res.Added)
	s.logger.InfoContext(ctx, "import done", "dataset_id", req.DatasetID,
		"connection", c.Name, "listed", res.Listed, "added", res.Added)
	return res, nil
}

func (s *Service) importTarget(ctx context.Context, req ImportRequest) (*mediasign.Connection, mediasign.Storage, error) {
	if _, err := s.store.Dataset(ctx, req.DatasetID); err != nil {
		return nil, nil, err
	}
	c, err := s.store.ConnectionByName(ctx, req.Connection)
	if err != nil {
		return nil, nil, err
	}
	if c.Provider == mediasign.ProviderS3 && req.Bucket == "" {
		return nil, nil, mediasign.Invalidf("importing from s3 connection %q needs a bucket", c.Name)
	}
	if c.Provider == mediasign.ProviderLocal && req.Bucket != "" {
		return nil, nil, mediasign.Invalidf("local connection %q has no buckets: give a prefix "+
			"(a folder under its root) instead of bucket %q", c.Name, req.Bucket)
	}
	st, err := s.storages.get(c)
	return c, st, err
}

// listThumbs returns the keys under the thumbnail prefix, relative to it.
func (s *Service) listThumbs(ctx context.Context, st mediasign.Storage, req ImportRequest) (map[string]bool, error) {
	thumbs := make(map[string]bool)
	if req.ThumbPrefix == "" {
		return thumbs, nil
	}
	err := st.List(ctx, req.Bucket, req.ThumbPrefix, func(page []mediasign.Object) error {
		for _, o := range page {
			thumbs[strings.TrimPrefix(o.Key, req.ThumbPrefix)] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list thumbnails of %s: %w", describe(req), err)
	}
	return thumbs, nil
}

// mediaFile turns a listed object into a media file, or reports false for
// objects that are thumbnails or not media.
func (s *Service) mediaFile(c *mediasign.Connection, req ImportRequest, o mediasign.Object,
	thumbs map[string]bool) (mediasign.MediaFile, bool) {
	if req.ThumbPrefix != "" && strings.HasPrefix(o.Key, req.ThumbPrefix) {
		return mediasign.MediaFile{}, false
	}
	mt := mediatype.FromKey(o.Key)
	if !req.AllFiles && !isMedia(mt) {
		return mediasign.MediaFile{}, false
	}

	f := mediasign.MediaFile{DatasetID: req.DatasetID, ConnectionID: c.ID, Bucket: req.Bucket,
		Key: o.Key, MediaType: mt, Size: o.Size}
	if rel := strings.TrimPrefix(o.Key, req.Prefix); req.ThumbPrefix != "" && thumbs[rel] {
		f.ThumbKey = req.ThumbPrefix + rel
	}
	return f, true
}

func isMedia(mediaType string) bool {
	switch mediatype.Kind(mediaType) {
	case "image", "video", "audio":
		return true
	}
	return mediaType == "application/pdf" || mediaType == "application/dicom"
}

func describe(req ImportRequest) string {
	if req.Bucket == "" {
		return fmt.Sprintf("connection %q prefix %q", req.Connection, req.Prefix)
	}
	return fmt.Sprintf("connection %q bucket %q prefix %q", req.Connection, req.Bucket, req.Prefix)
}
