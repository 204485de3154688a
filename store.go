package mediasign

import (
	"context"
	"time"
)

// Store keeps mediasign's state: connections, the catalog, cached URLs,
// settings, users, sessions, memberships, API tokens and export jobs. Each backend
// implements it and passes the conformance suite in store/storetest.
type Store interface {
	ConnectionStore
	CatalogStore
	URLCacheStore
	SettingStore
	UserStore
	SessionStore
	MembershipStore
	APITokenStore
	ConnectionGrantStore
	ExportStore

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

	// DatasetsWithObject returns the ids of the datasets, in ascending
	// order, that hold a media file for the object key of bucket on the
	// connection, comparing the key byte for byte.
	DatasetsWithObject(ctx context.Context, connectionID int64, bucket, key string) ([]int64, error)

	// ProjectOfMedia returns the project that holds the media file with id,
	// in one lookup, for access checks.
	ProjectOfMedia(ctx context.Context, id int64) (*Project, error)
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

// UserStore keeps users.
type UserStore interface {
	// CreateUser stores u and sets its ID and creation time. A name key or
	// subject already in use gives ErrConflict.
	CreateUser(ctx context.Context, u *User) error

	User(ctx context.Context, id int64) (*User, error)

	// UserByName returns the user whose NameKey is key.
	UserByName(ctx context.Context, key string) (*User, error)

	// UserBySubject returns the user created from an OAuth2 subject.
	UserBySubject(ctx context.Context, subject string) (*User, error)

	// ListUsers returns every user in name order.
	ListUsers(ctx context.Context) ([]*User, error)

	CountUsers(ctx context.Context) (int64, error)

	// SetPassword stores a new password hash and ends every session of the
	// user, in one transaction.
	SetPassword(ctx context.Context, userID int64, hash string) error

	// SetInstallAdmin grants or takes the installation admin flag. Taking it
	// from the last installation admin who can sign in by way gives
	// ErrConflict. Taking it revokes the API tokens the user made whose
	// role is above the user's role in their project.
	SetInstallAdmin(ctx context.Context, userID int64, admin bool, way SignIn) error

	// DeleteUser removes a user with their sessions, memberships and the
	// API tokens they made. Removing the last installation admin who can
	// sign in by way gives ErrConflict.
	DeleteUser(ctx context.Context, userID int64, way SignIn) error
}

// SessionStore keeps browser sessions by the hash of their ID.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error

	// Session returns the session with idHash, expired or not.
	Session(ctx context.Context, idHash string) (*Session, error)

	DeleteSession(ctx context.Context, idHash string) error

	// DeleteExpiredSessions removes sessions that expire before t and
	// returns how many went.
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error)
}

// MembershipStore keeps the roles of users in projects.
type MembershipStore interface {
	// SetMembership adds m or changes the role and source of an existing
	// membership of the same user and project. A lower role revokes the API
	// tokens the user made in the project with a role above it.
	SetMembership(ctx context.Context, m *Membership) error

	// Membership returns the role of a user in a project, or ErrNotFound.
	Membership(ctx context.Context, projectID, userID int64) (*Membership, error)

	// DeleteMembership takes a user out of a project and revokes the API
	// tokens they made there, unless they are an installation admin.
	DeleteMembership(ctx context.Context, projectID, userID int64) error

	// ListMembers returns the members of a project in user name order.
	ListMembers(ctx context.Context, projectID int64) ([]*Membership, error)

	// ListUserMemberships returns the memberships of a user in project name
	// order.
	ListUserMemberships(ctx context.Context, userID int64) ([]*Membership, error)

	// SyncClaimMemberships makes the claim memberships of a user exactly
	// roles (project ID to role), in one transaction, when tokenTime is
	// after the user's RolesTokenTime, and then records tokenTime there. It
	// reports whether it did; a token no newer changes nothing. Manual
	// memberships stay as they are and win over a claim for the same
	// project. Lost roles revoke API tokens as SetMembership does.
	SyncClaimMemberships(ctx context.Context, userID int64, roles map[int64]Role,
		tokenTime time.Time) (bool, error)
}

// APITokenStore keeps API tokens by the hash of their secret.
type APITokenStore interface {
	// CreateAPIToken stores t and sets its ID and creation time. A name
	// already used in the project gives ErrConflict.
	CreateAPIToken(ctx context.Context, t *APIToken) error

	// APITokenByHash returns the token whose secret hashes to hash.
	APITokenByHash(ctx context.Context, hash string) (*APIToken, error)

	// ListAPITokens returns the tokens of a project in name order.
	ListAPITokens(ctx context.Context, projectID int64) ([]*APIToken, error)

	// DeleteAPIToken revokes a token of a project.
	DeleteAPIToken(ctx context.Context, projectID, id int64) error
}

// ConnectionGrantStore keeps which projects may import from which
// connections. Connections serve the whole installation; a grant lets the
// admins of one project use a connection for imports.
type ConnectionGrantStore interface {
	// GrantConnection grants a connection to a project; granting it again
	// is not an error.
	GrantConnection(ctx context.Context, connectionID, projectID int64) error

	// RevokeConnection takes a grant back, or gives ErrNotFound when there
	// is none.
	RevokeConnection(ctx context.Context, connectionID, projectID int64) error

	// ConnectionGranted reports whether a connection is granted to a
	// project.
	ConnectionGranted(ctx context.Context, connectionID, projectID int64) (bool, error)

	// ListConnectionGrants returns the projects a connection is granted to,
	// in name order.
	ListConnectionGrants(ctx context.Context, connectionID int64) ([]*Project, error)
}

// URLCacheBatchStore is a URLCacheStore that reads and writes many entries
// in one round trip. The URL cache uses it for batches when the store has
// it, and asks key by key otherwise.
type URLCacheBatchStore interface {
	URLCacheStore

	// CachedURLs returns the entries stored under keys, in no particular
	// order; keys without an entry are left out.
	CachedURLs(ctx context.Context, keys []string) ([]*CachedURL, error)

	// PutCachedURLs inserts or replaces the entries, in one transaction.
	PutCachedURLs(ctx context.Context, us []*CachedURL) error
}

// ExportFormat is the file format of an export.
type ExportFormat string

// Formats of an export file.
const (
	// ExportJSON is one JSON document: {"header": {...}, "entries": [...]}.
	ExportJSON ExportFormat = "json"

	// ExportJSONLines is JSON Lines: the header on the first line, then one
	// entry per line.
	ExportJSONLines ExportFormat = "jsonl"
)

// ExportState says where an export job is.
type ExportState string

// States of an export job. A job is created running and ends done or
// failed; it never leaves those two.
const (
	ExportRunning ExportState = "running"
	ExportDone    ExportState = "done"
	ExportFailed  ExportState = "failed"
)

// Export is one export job: the signed URLs of the media files of one or
// more datasets of a project, written to a file.
type Export struct {
	ID         int64        `json:"id"`
	ProjectID  int64        `json:"project_id"`
	DatasetIDs []int64      `json:"dataset_ids"`
	Format     ExportFormat `json:"format"`
	State      ExportState  `json:"state"`

	// Total is how many media files the datasets held when the export
	// began, Written how many entries are written so far, and Resigned how
	// many entries the final check signed again because they fell short.
	Total    int64 `json:"total"`
	Written  int64 `json:"written"`
	Resigned int64 `json:"resigned"`

	// MinExpiresAt is the earliest expiry of any URL in the finished file.
	MinExpiresAt time.Time `json:"min_expires_at,omitzero"`

	// Size is the length of the finished file in bytes.
	Size int64 `json:"size"`

	// Error says why a failed export failed, in words for its user.
	Error string `json:"error,omitempty"`

	// ObjectKey is the key of the finished file in the bucket that keeps
	// export files; empty when the file stays on the process that wrote it.
	ObjectKey string `json:"-"`

	// Owner names the process that runs the export, and HeartbeatAt is when
	// it last reported progress.
	Owner       string    `json:"-"`
	HeartbeatAt time.Time `json:"-"`

	// CreatedBy is the user who started the export; 0 for API tokens and
	// the admin token.
	CreatedBy  int64     `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// ExportStore keeps export jobs and reads the catalog the way exports do.
type ExportStore interface {
	// CreateExport stores e as running and sets its ID and CreatedAt.
	CreateExport(ctx context.Context, e *Export) error

	Export(ctx context.Context, id int64) (*Export, error)

	// ListExports returns the exports of a project, newest first.
	ListExports(ctx context.Context, projectID int64) ([]*Export, error)

	// UpdateExportProgress records how many entries a running export has
	// written and that its owner was alive at at. It gives ErrNotFound when
	// the export is gone or no longer running.
	UpdateExportProgress(ctx context.Context, id, written int64, at time.Time) error

	// FinishExport ends a running export with e's state (done or failed),
	// counts, expiry, size, error, object key and finish time. It gives ErrNotFound
	// when the export is gone or no longer running.
	FinishExport(ctx context.Context, e *Export) error

	DeleteExport(ctx context.Context, id int64) error

	// FailStaleExports marks failed, with reason, the running exports whose
	// last heartbeat is before staleBefore, and returns their ids.
	FailStaleExports(ctx context.Context, staleBefore time.Time, reason string, at time.Time) ([]int64, error)

	// MediaSnapshot returns how many media files a dataset holds and the
	// highest of their ids, read together.
	MediaSnapshot(ctx context.Context, datasetID int64) (count, lastID int64, err error)

	// MediaPage appends to buf up to limit media files of a dataset whose
	// ids are above afterID and at most throughID, in id order, with their
	// connections' revisions.
	MediaPage(ctx context.Context, datasetID, afterID, throughID int64, limit int,
		buf []MediaRef) ([]MediaRef, error)
}
