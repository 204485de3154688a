package export

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/mediasign/mediasign"
)

// DownloadValidity is how long the signed URL of a download from a bucket
// stays valid.
const DownloadValidity = 10 * time.Minute

// ObjectStore is the part of a storage connection that keeps export files.
// The s3 provider's Storage implements it.
type ObjectStore interface {
	PutFile(ctx context.Context, bucket, key string, f *os.File, size int64) error
	DeleteObject(ctx context.Context, bucket, key string) error
	SignURL(ctx context.Context, req mediasign.SignRequest) (mediasign.SignedURL, error)
}

// Remote keeps finished export files in a bucket that every replica
// reaches.
type Remote struct {
	// Open returns the storage of the configured connection, read afresh so
	// that new credentials apply.
	Open func(ctx context.Context) (ObjectStore, error)

	Bucket string

	// Prefix starts the key of every file.
	Prefix string
}

// Download is how a done export's file is fetched: from this process, or
// through a short-lived signed URL of the bucket that keeps it.
type Download struct {
	Export *mediasign.Export

	// File is the file on this process, which the caller closes; nil when
	// URL is set.
	File *os.File

	// URL is a signed GET URL of the file in the bucket.
	URL string
}

// objectKey returns a key for the file of e that no other export, of this
// installation or another sharing the bucket, is given.
func (r *Remote) objectKey(e *mediasign.Export) string {
	return r.Prefix + strconv.FormatInt(e.ID, 10) + "-" + rand.Text()[:16] + Extension(e.Format)
}

// upload copies the finished file of e to the bucket and returns its key.
func (m *Manager) upload(ctx context.Context, e *mediasign.Export) (string, error) {
	r := m.opts.Remote
	store, err := r.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("open export storage: %w", err)
	}
	f, err := os.Open(m.path(e))
	if err != nil {
		return "", fmt.Errorf("open export file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat export file: %w", err)
	}

	key := r.objectKey(e)
	if err := store.PutFile(ctx, r.Bucket, key, f, info.Size()); err != nil {
		return "", fmt.Errorf("upload export file: %w", err)
	}
	return key, nil
}

// signedURL returns a short-lived GET URL of the file of e in the bucket,
// which a browser saves under name.
func (m *Manager) signedURL(ctx context.Context, e *mediasign.Export, name string) (string, error) {
	if m.opts.Remote == nil {
		return "", mediasign.Unavailable(fmt.Sprintf("export %d is kept in a bucket, but no "+
			"export storage is configured on this server: set MEDIASIGN_EXPORT_CONNECTION "+
			"and MEDIASIGN_EXPORT_BUCKET as on the server that wrote it", e.ID), nil)
	}
	store, err := m.opts.Remote.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("open export storage: %w", err)
	}
	out, err := store.SignURL(ctx, mediasign.SignRequest{Method: mediasign.MethodGet,
		Bucket: m.opts.Remote.Bucket, Key: e.ObjectKey, Expires: DownloadValidity,
		ResponseContentType:        ContentType(e.Format),
		ResponseContentDisposition: `attachment; filename="` + name + `"`})
	if err != nil {
		return "", fmt.Errorf("sign export download: %w", err)
	}
	return out.URL, nil
}

// deleteObject removes the file of e from the bucket.
func (m *Manager) deleteObject(ctx context.Context, e *mediasign.Export) error {
	if m.opts.Remote == nil {
		return mediasign.Unavailable(fmt.Sprintf("the file of export %d is in a bucket, but "+
			"no export storage is configured on this server to delete it: set "+
			"MEDIASIGN_EXPORT_CONNECTION and MEDIASIGN_EXPORT_BUCKET", e.ID), nil)
	}
	store, err := m.opts.Remote.Open(ctx)
	if err == nil {
		err = store.DeleteObject(ctx, m.opts.Remote.Bucket, e.ObjectKey)
	}
	if err != nil {
		m.opts.Logger.ErrorContext(ctx, "delete export object", "export", e.ID,
			"bucket", m.opts.Remote.Bucket, "key", e.ObjectKey, "error", err)
		return &mediasign.Error{Code: mediasign.CodeUnavailable, Err: err, Message: fmt.Sprintf(
			"the file of export %d could not be deleted from bucket %q, so the export is "+
				"kept: try deleting it again, and ask an operator if it fails again",
			e.ID, m.opts.Remote.Bucket)}
	}
	return nil
}
