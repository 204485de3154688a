package mediasign

import (
	"context"
	"time"
)

// Store keeps mediasign's state: connections, the catalog, cached URLs,
// settings, users, sessions, memberships and API tokens. Each backend
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
	// from the last installation admin gives ErrConflict.
	SetInstallAdmin(ctx context.Context, userID int64, admin bool) error

	// DeleteUser removes a user with their sessions and memberships.
	// Removing the last installation admin gives ErrConflict.
	DeleteUser(ctx context.Context, userID int64) error
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
	// membership of the same user and project.
	SetMembership(ctx context.Context, m *Membership) error

	// Membership returns the role of a user in a project, or ErrNotFound.
	Membership(ctx context.Context, projectID, userID int64) (*Membership, error)

	DeleteMembership(ctx context.Context, projectID, userID int64) error

	// ListMembers returns the members of a project in user name order.
	ListMembers(ctx context.Context, projectID int64) ([]*Membership, error)

	// ListUserMemberships returns the memberships of a user in project name
	// order.
	ListUserMemberships(ctx context.Context, userID int64) ([]*Membership, error)

	// SyncClaimMemberships makes the claim memberships of a user exactly
	// roles (project ID to role), in one transaction. Manual memberships
	// stay as they are and win over a claim for the same project.
	SyncClaimMemberships(ctx context.Context, userID int64, roles map[int64]Role) error
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
