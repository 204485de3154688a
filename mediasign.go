// Package mediasign holds the domain of the mediasign service: storage
// connections, the media catalog, signed URLs and the interfaces that storage
// providers and state backends implement.
package mediasign

import (
	"context"
	"log/slog"
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

	// Signer, when set, names the custom URL signer that signs this
	// connection's URLs instead of mediasign.
	Signer *SignerConfig `json:",omitempty"`

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

// Forward modes say how a custom URL signer learns who the caller is.
const (
	// ForwardAuto sends a JWT as "Authorization: Bearer <jwt>" and a session
	// ID as the session cookie.
	ForwardAuto = "auto"

	// ForwardBearer sends the caller's JWT as "Authorization: Bearer <jwt>".
	ForwardBearer = "bearer"

	// ForwardJWT sends the bare JWT as the Authorization value, as older
	// signers expect.
	ForwardJWT = "jwt"

	// ForwardCookie sends the caller's session ID as the session cookie.
	ForwardCookie = "cookie"
)

// Cache scopes of URLs from a custom URL signer.
const (
	// SignerScopeUser keeps each URL for the user it was signed for.
	SignerScopeUser = "user"

	// SignerScopeShared lets every caller with access to the media reuse a
	// URL, for signers that decide per object only.
	SignerScopeShared = "shared"
)

// DefaultSignerCookie is the cookie that carries a forwarded session ID.
const DefaultSignerCookie = "mediasign_session"

// CodeBadGateway marks a failure of a service mediasign depends on, such as
// a custom URL signer that answered wrongly or not at all.
const CodeBadGateway Code = "bad_gateway"

// SignerConfig holds the settings of a connection's custom URL signer.
// ServiceToken is a secret: the API never returns it.
type SignerConfig struct {
	// URL is the base URL; requests go to {URL}/{bucket}/?key=...&method=get.
	URL string `json:"url"`

	// Forward is how the caller's identity is sent: auto (the default),
	// bearer, jwt or cookie.
	Forward string `json:"forward,omitempty"`

	// CookieName names the session cookie; DefaultSignerCookie when empty.
	CookieName string `json:"cookie_name,omitempty"`

	// ServiceToken is sent as "Authorization: Bearer <token>" for work that
	// has no user: API tokens, exports, imports and background refresh.
	ServiceToken string `json:"service_token,omitempty"`

	// CacheScope is user (the default) or shared.
	CacheScope string `json:"cache_scope,omitempty"`

	// Batch lets mediasign sign many keys in one call with the batch
	// extension of the protocol.
	Batch bool `json:"batch,omitempty"`

	// TimeoutMS bounds one signing, retries included; 5000 when zero.
	TimeoutMS int `json:"timeout_ms,omitempty"`

	// MaxConcurrency bounds the calls in flight to the signer; 32 when zero.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
}

// LogValue logs the settings without the service token.
func (c SignerConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.URL), slog.String("forward", c.Forward),
		slog.String("cache_scope", c.CacheScope), slog.Bool("batch", c.Batch),
		slog.Bool("has_service_token", c.ServiceToken != ""))
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
