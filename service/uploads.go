package service

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/mediatype"
)

// Validity of upload URLs.
const (
	DefaultUploadValidity = time.Hour
	MinUploadValidity     = time.Minute
	MaxUploadValidity     = 24 * time.Hour
)

// maxKeyBytes is the longest object key an upload may name.
const maxKeyBytes = 1024

// UploadRequest asks for a URL that uploads one object for a dataset.
type UploadRequest struct {
	DatasetID int64

	// Connection and Bucket say where the object goes. Both may be left
	// empty, and then the place of the dataset's first media file is used.
	Connection string
	Bucket     string
	Key        string

	// ContentType is what the upload must send; guessed from the key when
	// empty.
	ContentType string

	// Expires is how long the URL stays valid; DefaultUploadValidity when
	// zero.
	Expires time.Duration
}

// Upload is a URL that uploads one object with PUT, and the headers the
// upload must send.
type Upload struct {
	Connection  string
	Bucket      string
	Key         string
	ContentType string
	URL         string
	ExpiresAt   time.Time
	Headers     map[string]string
}

// UploadURL signs a PUT URL for one object, with the connection's built-in
// signer or its custom signer, on behalf of the caller of ctx. The key must
// lie in a folder (the part of a key up to its last "/") that already holds
// a media file of the dataset, on the same connection and bucket, and must
// not be the key of a media file of another dataset; installation admins
// are held to the same rules, and bring other objects in by importing.
// Upload URLs are never cached.
func (s *Service) UploadURL(ctx context.Context, req UploadRequest) (Upload, error) {
	if err := checkUpload(&req); err != nil {
		return Upload{}, err
	}
	c, bucket, err := s.uploadTarget(ctx, req)
	if err != nil {
		return Upload{}, err
	}
	if err := s.checkNotOthers(ctx, req.DatasetID, c, bucket, req.Key); err != nil {
		return Upload{}, err
	}
	if req.ContentType == "" {
		req.ContentType = mediatype.FromKey(req.Key)
	}

	u, err := s.sign(ctx, c, mediasign.SignRequest{Bucket: bucket, Key: req.Key,
		Method: mediasign.MethodPut, Expires: req.Expires, ContentType: req.ContentType})
	if err != nil {
		return Upload{}, err
	}
	return Upload{Connection: c.Name, Bucket: bucket, Key: req.Key, ContentType: req.ContentType,
		URL: u.URL, ExpiresAt: u.ExpiresAt, Headers: u.Headers}, nil
}

// checkUpload checks the key, content type and validity of an upload.
func checkUpload(req *UploadRequest) error {
	switch {
	case req.Key == "":
		return mediasign.Invalidf(`key is empty: give the object key to upload, for example ` +
			`"images/new.jpg"`)
	case len(req.Key) > maxKeyBytes:
		return mediasign.Invalidf("key is %d bytes long: use at most %d", len(req.Key), maxKeyBytes)
	case !utf8.ValidString(req.Key) || hasControl(req.Key):
		return mediasign.Invalidf("key must be UTF-8 text without control characters")
	case badSegment(req.Key):
		return mediasign.Invalidf(`key %q has an empty, "." or ".." path segment: give a `+
			`key such as "images/new.jpg", without a leading, trailing or doubled "/"`, req.Key)
	case hasControl(req.ContentType):
		return mediasign.Invalidf("content_type must not contain control characters")
	}
	if req.Expires == 0 {
		req.Expires = DefaultUploadValidity
	}
	if req.Expires < MinUploadValidity || req.Expires > MaxUploadValidity {
		return mediasign.Invalidf("expires_seconds %d is out of range: give %d to %d",
			int64(req.Expires/time.Second), int64(MinUploadValidity/time.Second),
			int64(MaxUploadValidity/time.Second))
	}
	return nil
}

// badSegment reports whether key has an empty, "." or ".." segment between
// its slashes.
func badSegment(key string) bool {
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// uploadTarget returns the connection and bucket an upload goes to: those
// of a media file of the dataset whose folder holds the key.
func (s *Service) uploadTarget(ctx context.Context, req UploadRequest) (
	*mediasign.Connection, string, error) {
	if _, err := s.store.Dataset(ctx, req.DatasetID); err != nil {
		return nil, "", err
	}
	var want *mediasign.Connection
	if req.Connection != "" {
		c, err := s.store.ConnectionByName(ctx, req.Connection)
		if err != nil {
			return nil, "", err
		}
		want = c
	}

	f, err := s.folderFor(ctx, req.DatasetID, want, req.Bucket, req.Key)
	if err != nil {
		return nil, "", err
	}
	if want == nil {
		if want, err = s.store.Connection(ctx, f.ConnectionID); err != nil {
			return nil, "", err
		}
	}
	return want, f.Bucket, nil
}

// folderFor returns a media file of the dataset on connection c (any when
// nil) and bucket (any when empty) whose folder holds key.
func (s *Service) folderFor(ctx context.Context, datasetID int64, c *mediasign.Connection,
	bucket, key string) (*mediasign.MediaFile, error) {
	// TODO: this reads the dataset's files page by page; a store query for
	// the distinct folders of a dataset would answer at once on datasets of
	// millions of files.
	var after int64
	var placed *mediasign.MediaFile // a file in the right place, for the error
	for {
		page, err := s.store.ListMedia(ctx, datasetID, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, f := range page {
			if (c != nil && f.ConnectionID != c.ID) || (bucket != "" && f.Bucket != bucket) {
				continue
			}
			if strings.HasPrefix(key, folder(f.Key)) {
				return f, nil
			}
			if placed == nil {
				placed = f
			}
		}
		if len(page) < 1000 {
			return nil, uploadRefused(c, bucket, placed)
		}
		after = page[len(page)-1].ID
	}
}

// folder returns the part of key up to and including its last "/".
func folder(key string) string { return key[:strings.LastIndexByte(key, '/')+1] }

// checkNotOthers refuses a key that a media file of another dataset has, so
// an upload never replaces another dataset's object.
func (s *Service) checkNotOthers(ctx context.Context, datasetID int64, c *mediasign.Connection,
	bucket, key string) error {
	ids, err := s.store.DatasetsWithObject(ctx, c.ID, bucket, key)
	if err != nil {
		return fmt.Errorf("look up datasets of the object: %w", err)
	}
	for _, id := range ids {
		if id != datasetID {
			return &mediasign.Error{Code: mediasign.CodeForbidden,
				Message: fmt.Sprintf("key %q is a media file of another dataset: upload under a "+
					"key of your own", key)}
		}
	}
	return nil
}

func uploadRefused(c *mediasign.Connection, bucket string, placed *mediasign.MediaFile) error {
	switch {
	case placed != nil:
		return &mediasign.Error{Code: mediasign.CodeForbidden,
			Message: fmt.Sprintf("uploads go only into a folder that already holds media of the "+
				"dataset: choose a key that starts with one, such as %q", folder(placed.Key))}
	case c == nil && bucket == "":
		return mediasign.Invalidf("the dataset holds no media yet, so it has no place to " +
			"upload to: ask a project admin to import a file first")
	}
	return &mediasign.Error{Code: mediasign.CodeForbidden,
		Message: "uploads go only to a connection and bucket the dataset already holds media " +
			"from: name one of those, or leave connection and bucket out"}
}
