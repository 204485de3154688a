package mediasign

import (
	"context"
	"time"
)

// Store keeps mediasign's state: connections, the catalog, cached URLs and
// settings. Each backend implements it and passes the conformance suite in
// store/storetest.
type Store interface {
	ConnectionStore
	CatalogStore
	URLCacheStore
	SettingStore

	// Ping checks that the backend answers.
	Ping(ctx context.Context) error

	// Close releases the backend.
	Close() error
}

// ConnectionStore keeps storage connections.
type ConnectionStore interface {
	// CreateConnection stores c and sets its ID, Revision and times. A name
	// already in use gives ErrConflict.
	CreateConnection(ctx context.Context, c *Connection) error

	// UpdateConnection replaces the settings of the connection with c.ID and
	// increments its revision.
	UpdateConnection(ctx context.Context, c *Connection) error

	Connection(ctx context.Context, id int64) (*Connection, error)
	ConnectionByName(ctx context.Context, name string) (*Connection, error)
	ListConnections(ctx context.Context) ([]*Connection, error)
}

// CatalogStore keeps projects, datasets and media files.
type CatalogStore interface {
	CreateProject(ctx context.Context, p *Project) error
	Project(ctx context.Context, id int64) (*Project, error)
	ProjectByName(ctx context.Context, name string) (*Project, error)
	ListProjects(ctx context.Context) ([]*Project, error)

	CreateDataset(ctx context.Context, d *Dataset) error
	Dataset(ctx context.Context, id int64) (*Dataset, error)
	DatasetByName(ctx context.Context, projectID int64, name string) (*Dataset, error)
	ListDatasets(ctx context.Context, projectID int64) ([]*Dataset, error)

	// AddMedia inserts the files that the dataset does not hold yet, in one
	// transaction, and returns how many were new. A file is the same when
	// its connection, bucket and key are.
	AddMedia(ctx context.Context, files []MediaFile) (added int, err error)

	// Media returns one media file with its connection's revision.
	Media(ctx context.Context, id int64) (*MediaRef, error)

	// MediaBatch returns the media files with the given ids that exist, in
	// no particular order.
	MediaBatch(ctx context.Context, ids []int64) ([]*MediaRef, error)

	// ListMedia returns up to limit files of a dataset with an ID above
	// afterID, in ID order.
	ListMedia(ctx context.Context, datasetID, afterID int64, limit int) ([]*MediaFile, error)

	CountMedia(ctx context.Context, datasetID int64) (int64, error)
}

// CachedURL is a signed URL kept for reuse until it is no longer safely
// valid.
type CachedURL struct {
	Key       string
	URL       string
	ExpiresAt time.Time
	Headers   map[string]string
	CreatedAt time.Time
}

// URLCacheStore keeps cached URLs persistently.
type URLCacheStore interface {
	// CachedURL returns the entry for key, or ErrNotFound.
	CachedURL(ctx context.Context, key string) (*CachedURL, error)

	// PutCachedURL inserts or replaces the entry for u.Key.
	PutCachedURL(ctx context.Context, u *CachedURL) error

	// DeleteExpiredURLs removes entries that expire before t and returns how
	// many went.
	DeleteExpiredURLs(ctx context.Context, t time.Time) (int64, error)
}

// SettingStore keeps small installation-wide values.
type SettingStore interface {
	// Setting returns the value of name, or ErrNotFound.
	Setting(ctx context.Context, name string) (string, error)

	// SetSetting stores value under name.
	SetSetting(ctx context.Context, name, value string) error

	// SetSettingIfAbsent stores value under name unless name exists, and
	// reports whether it stored it.
	SetSettingIfAbsent(ctx context.Context, name, value string) (bool, error)
}
