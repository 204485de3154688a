// Package mediasign holds the domain of the mediasign service: storage
// connections, the media catalog, signed URLs and the interfaces that storage
// providers and state backends implement.
package mediasign

import (
	"context"
	"time"
)

// Provider names a kind of storage a connection points at.
type Provider string

// Providers that mediasign knows.
const (
	ProviderS3    Provider = "s3"
	ProviderLocal Provider = "local"
)

// Method is the HTTP method a signed URL grants.
type Method string

// Methods a signed URL can grant.
const (
	MethodGet Method = "GET"
	MethodPut Method = "PUT"
)

// Connection is one storage account: a provider with its credentials and
// endpoints. Secret fields are never returned by the API.
type Connection struct {
	ID       int64
	Name     string
	Provider Provider
	S3       *S3Config    `json:",omitempty"`
	Local    *LocalConfig `json:",omitempty"`

	// Revision grows with every change, so cached URLs signed with older
	// settings are never served.
	Revision  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// S3Config holds the settings of an S3 or S3-compatible connection.
type S3Config struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`

	// CredentialsExpireAt is when temporary credentials stop working; a URL
	// signed with them is never reported valid past it.
	CredentialsExpireAt *time.Time `json:"credentials_expire_at,omitempty"`

	Region    string `json:"region"`
	Endpoint  string `json:"endpoint,omitempty"`
	PathStyle bool   `json:"path_style,omitempty"`

	// PublicEndpoint is the endpoint browsers reach; URLs are signed for it.
	PublicEndpoint string `json:"public_endpoint,omitempty"`
}

// LocalConfig holds the settings of a connection to a local directory.
type LocalConfig struct {
	Root string `json:"root"`
}

// Project groups datasets.
type Project struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Dataset is a named set of media files in a project.
type Dataset struct {
	ID        int64     `json:"id"`
	ProjectID int64     `json:"project_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// MediaFile is one object of a dataset, with an optional thumbnail object in
// the same bucket.
type MediaFile struct {
	ID           int64     `json:"id"`
	DatasetID    int64     `json:"dataset_id"`
	ConnectionID int64     `json:"connection_id"`
	Bucket       string    `json:"bucket"`
	Key          string    `json:"key"`
	MediaType    string    `json:"media_type"`
	Size         int64     `json:"size"`
	ThumbKey     string    `json:"thumb_key,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// MediaRef is a media file together with the revision of its connection, as
// needed to look up and sign its URLs.
type MediaRef struct {
	MediaFile
	ConnectionRevision int64
}

// SignRequest asks a signer for one URL.
type SignRequest struct {
	Bucket string
	Key    string
	Method Method

	// Expires is how long the URL should stay valid.
	Expires time.Duration

	// ContentType binds an upload URL to one Content-Type.
	ContentType string

	// ResponseContentType and ResponseContentDisposition override the
	// headers of the download, where the provider supports it.
	ResponseContentType        string
	ResponseContentDisposition string
}

// SignedURL is a URL that grants one method on one object until ExpiresAt.
type SignedURL struct {
	URL       string
	ExpiresAt time.Time

	// Headers lists the headers a client must send with the URL.
	Headers map[string]string
}

// Signer turns a request into a signed URL.
type Signer interface {
	SignURL(ctx context.Context, req SignRequest) (SignedURL, error)
}

// Object is one entry of a bucket listing.
type Object struct {
	Key  string
	Size int64
}

// Storage is an open connection to one storage account.
type Storage interface {
	Signer

	// MaxExpiry is the longest validity the provider accepts.
	MaxExpiry() time.Duration

	// List calls fn for each object under prefix, page by page, in key order.
	List(ctx context.Context, bucket, prefix string, fn func([]Object) error) error

	// Check verifies that the account is reachable and the credentials work.
	Check(ctx context.Context, bucket string) error
}

// CacheScoper is a Storage whose URLs depend on more than its connection's
// settings, such as the signing key of local URLs. URLs cached under another
// scope are not served again.
type CacheScoper interface {
	CacheScope() string
}

// Clock tells the time; it is injected so tests can control it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
