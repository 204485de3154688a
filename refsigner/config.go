package refsigner

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
	s3provider "github.com/mediasign/mediasign/provider/s3"
)

// Mode is how the signer learns who a caller is.
type Mode string

// Modes of the reference signer, matching mediasign's installation modes.
const (
	// ModeJWT checks the forwarded OAuth2 JWT against the provider's JWKS.
	ModeJWT Mode = "jwt"

	// ModeSession asks mediasign's session introspection endpoint about the
	// forwarded session cookie.
	ModeSession Mode = "session"
)

// Environment variables of the reference signer.
const (
	EnvListen              = "MEDIASIGN_SIGNER_LISTEN"
	EnvMode                = "MEDIASIGN_SIGNER_MODE"
	EnvPolicy              = "MEDIASIGN_SIGNER_POLICY"
	EnvIssuer              = "MEDIASIGN_SIGNER_OAUTH2_ISSUER"
	EnvAudience            = "MEDIASIGN_SIGNER_OAUTH2_AUDIENCE"
	EnvAlgorithms          = "MEDIASIGN_SIGNER_OAUTH2_ALGORITHMS"
	EnvRoleClaim           = "MEDIASIGN_SIGNER_OAUTH2_ROLE_CLAIM"
	EnvMediasignURL        = "MEDIASIGN_SIGNER_MEDIASIGN_URL"
	EnvIntrospectionSecret = "MEDIASIGN_SIGNER_INTROSPECTION_SECRET"
	EnvCookie              = "MEDIASIGN_SIGNER_COOKIE"
	EnvServiceToken        = "MEDIASIGN_SIGNER_SERVICE_TOKEN"
	EnvExpires             = "MEDIASIGN_SIGNER_EXPIRES_SECONDS"
	EnvNoOverwrite         = "MEDIASIGN_SIGNER_NO_OVERWRITE"
	EnvS3AccessKeyID       = "MEDIASIGN_SIGNER_S3_ACCESS_KEY_ID"
	EnvS3Secret            = "MEDIASIGN_SIGNER_S3_SECRET_ACCESS_KEY"
	EnvS3SessionToken      = "MEDIASIGN_SIGNER_S3_SESSION_TOKEN"
	EnvS3Region            = "MEDIASIGN_SIGNER_S3_REGION"
	EnvS3Endpoint          = "MEDIASIGN_SIGNER_S3_ENDPOINT"
	EnvS3PathStyle         = "MEDIASIGN_SIGNER_S3_PATH_STYLE"
	EnvS3PublicEndpoint    = "MEDIASIGN_SIGNER_S3_PUBLIC_ENDPOINT"
)

// Defaults of Config.
const (
	DefaultListen     = "127.0.0.1:8090"
	DefaultExpires    = s3provider.MaxExpiry
	DefaultSessionTTL = 30 * time.Second
)

// Config holds every setting of a reference signer.
type Config struct {
	Listen string
	Mode   Mode

	// PolicyFile is the JSON policy of who may sign what.
	PolicyFile string

	// Issuer, Audience, Algorithms and RoleClaim check JWTs in jwt mode.
	Issuer     string
	Audience   string
	Algorithms []string
	RoleClaim  string

	// MediasignURL and IntrospectionSecret reach mediasign's session
	// introspection endpoint in session mode; CookieName is the cookie
	// mediasign forwards.
	MediasignURL        string
	IntrospectionSecret string
	CookieName          string

	// SessionTTL is how long an introspection answer is reused.
	SessionTTL time.Duration

	// ServiceToken, when set, is the token mediasign sends for work that
	// has no user; the policy's "service" rules apply to it.
	ServiceToken string

	// Expires is how long the URLs signed are valid.
	Expires time.Duration

	// NoOverwrite answers 409 to an upload whose object exists.
	NoOverwrite bool

	// S3 holds the signer's own credentials and endpoint.
	S3 mediasign.S3Config
}

// Default returns the settings used when nothing is set.
func Default() Config {
	return Config{Listen: DefaultListen, Mode: ModeJWT, CookieName: mediasign.DefaultSignerCookie,
		SessionTTL: DefaultSessionTTL, Expires: DefaultExpires, NoOverwrite: true,
		S3: mediasign.S3Config{Region: "us-east-1"}}
}

// LoadConfig reads the settings from the environment through lookup, on
// top of the defaults, and reports every problem at once.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not true or false", name, v))
			}
			*dst = b
		}
	}

	var mode, algs string
	str(EnvListen, &c.Listen)
	str(EnvMode, &mode)
	str(EnvPolicy, &c.PolicyFile)
	str(EnvIssuer, &c.Issuer)
	str(EnvAudience, &c.Audience)
	str(EnvAlgorithms, &algs)
	str(EnvRoleClaim, &c.RoleClaim)
	str(EnvMediasignURL, &c.MediasignURL)
	str(EnvIntrospectionSecret, &c.IntrospectionSecret)
	str(EnvCookie, &c.CookieName)
	str(EnvServiceToken, &c.ServiceToken)
	boolean(EnvNoOverwrite, &c.NoOverwrite)
	c.loadS3(str, boolean)
	if mode != "" {
		c.Mode = Mode(mode)
	}
	c.Algorithms = splitList(algs)

	if v, ok := lookup(EnvExpires); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not a whole number of seconds", EnvExpires, v))
		}
		c.Expires = time.Duration(n) * time.Second
	}
	return c, errors.Join(errs...)
}

func (c *Config) loadS3(str func(string, *string), boolean func(string, *bool)) {
	str(EnvS3AccessKeyID, &c.S3.AccessKeyID)
	str(EnvS3Secret, &c.S3.SecretAccessKey)
	str(EnvS3SessionToken, &c.S3.SessionToken)
	str(EnvS3Region, &c.S3.Region)
	str(EnvS3Endpoint, &c.S3.Endpoint)
	str(EnvS3PublicEndpoint, &c.S3.PublicEndpoint)
	boolean(EnvS3PathStyle, &c.S3.PathStyle)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// Validate checks the settings as a whole and reports every problem at
// once, each saying what to set.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("%s=%q is not host:port, for example %s",
			EnvListen, c.Listen, DefaultListen))
	}
	if c.PolicyFile == "" {
		errs = append(errs, fmt.Errorf("%s is empty: give the policy file (see the README's "+
			"reference signer section)", EnvPolicy))
	}
	switch c.Mode {
	case ModeJWT:
		errs = append(errs, c.validateJWT())
	case ModeSession:
		errs = append(errs, c.validateSession())
	default:
		errs = append(errs, fmt.Errorf("%s=%q: use jwt or session", EnvMode, c.Mode))
	}
	if c.Expires < time.Second || c.Expires > s3provider.MaxExpiry {
		errs = append(errs, fmt.Errorf("%s=%d is out of range: give 1 to %d", EnvExpires,
			int64(c.Expires/time.Second), int64(s3provider.MaxExpiry/time.Second)))
	}
	if err := s3provider.ValidateConfig(&c.S3); err != nil {
		errs = append(errs, fmt.Errorf("the signer's S3 settings (%s and the other "+
			"MEDIASIGN_SIGNER_S3_ variables): %s", EnvS3AccessKeyID, mediasign.PublicMessage(err)))
	}
	return errors.Join(errs...)
}

func (c *Config) validateJWT() error {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, fmt.Errorf("jwt mode needs %s, the issuer URL of the OAuth2 "+
			"provider", EnvIssuer))
	}
	if c.Audience == "" {
		errs = append(errs, fmt.Errorf("jwt mode needs %s, the audience of the tokens "+
			"mediasign forwards", EnvAudience))
	}
	return errors.Join(errs...)
}

func (c *Config) validateSession() error {
	var errs []error
	u, err := url.Parse(c.MediasignURL)
	if c.MediasignURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" {
		errs = append(errs, fmt.Errorf("session mode needs %s, the URL of mediasign, for "+
			"example https://media.example.com", EnvMediasignURL))
	}
	c.MediasignURL = strings.TrimRight(c.MediasignURL, "/")
	if c.IntrospectionSecret == "" {
		errs = append(errs, fmt.Errorf("session mode needs %s: run 'mediasign signer secret' "+
			"on the mediasign side and set it here", EnvIntrospectionSecret))
	}
	if c.CookieName == "" {
		c.CookieName = mediasign.DefaultSignerCookie
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	return errors.Join(errs...)
}
