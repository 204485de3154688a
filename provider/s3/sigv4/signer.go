// Package sigv4 builds presigned URLs with AWS Signature Version 4 query
// authentication, for S3 and S3-compatible servers.
//
// A Signer holds one connection's credentials, region and endpoint; its
// Presign method turns a Request (method, bucket and key, time, expiry) into
// a URL without reading the clock or touching the network. Keys are encoded
// by the S3 rule and never normalized; the URL's query is the canonical
// query byte for byte. The derived signing key is cached per secret, day,
// region and service, and what the URLs of one second share (the date, the
// fixed head of the query, a first block of the string to sign) is kept per
// Signer, so a URL costs two SHA-256 passes, a short HMAC and one
// allocation.
package sigv4

import (
	"crypto/sha256"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mediasign/mediasign"
)

// Defaults and limits of the engine.
const (
	// DefaultService is the service name of S3 in the credential scope.
	DefaultService = "s3"

	// UnsignedPayload is the payload hash of S3 presigned URLs: the body
	// is not part of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"

	// MaxExpires is the longest validity SigV4 query authentication allows.
	MaxExpires = 604800 * time.Second

	// algorithm names the signing algorithm in the query and string to sign.
	algorithm = "AWS4-HMAC-SHA256"
)

// Credentials are the keys a URL is signed with. SessionToken is set for
// temporary credentials and travels in the URL as X-Amz-Security-Token,
// inside the canonical query like every other parameter.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// Expires is when temporary credentials stop working; zero means
	// never. Nothing is signed from then on, and no URL is reported valid
	// past it.
	Expires time.Time
}

// Config describes one endpoint and the credentials used to sign for it.
type Config struct {
	Credentials Credentials

	// Region goes into the credential scope, e.g. "eu-north-1".
	Region string

	// Service goes into the credential scope; empty means DefaultService.
	Service string

	// PayloadHash is the last line of the canonical request; empty means
	// UnsignedPayload.
	PayloadHash string

	// Scheme is "https" or "http".
	Scheme string

	// Host is the endpoint's host with an optional port, as browsers will
	// reach it. It is lowercased and a default port for Scheme is dropped,
	// from both the URL and the signed host.
	Host string

	// PathStyle puts the bucket in the path (/bucket/key). Without it the
	// bucket becomes part of the host (bucket.host/key), unless the bucket
	// name cannot lead a host name or the host is an IP address: then the
	// URL falls back to path style. Over HTTPS a bucket with dots always
	// falls back, since a wildcard certificate does not cover it.
	PathStyle bool

	// Keys caches derived signing keys; nil means a cache shared by the
	// whole process.
	Keys *KeyCache
}

// Signer builds presigned URLs for one Config. It is safe for concurrent use.
type Signer struct {
	secret      string
	secretID    [sha256.Size]byte
	region      string
	service     string
	payloadHash string
	https       bool
	origin      string // scheme://
	host        string
	base        string // scheme://host
	hostLine    string // host:<host>\n
	pathStyle   bool
	ipHost      bool
	keys        *KeyCache
	credsEnd    time.Time

	// Precomputed parts of the query and the string to sign.
	queryHead  string // X-Amz-Algorithm=...&X-Amz-Credential=<key>%2F
	scopeTail  string // %2F<region>%2F<service>%2Faws4_request&X-Amz-Date=
	tokenParam string // &X-Amz-Security-Token=<token>, or empty
	// hostOnlyTail ends the X-Amz- parameters when only host is signed:
	// tokenParam, then &X-Amz-SignedHeaders=host.
	hostOnlyTail string
	scope        string // /region/service/aws4_request

	// second holds what the URLs of the last signing second share.
	second atomic.Pointer[secondState]
}

// New returns a Signer for cfg, or an invalid-argument error that names the
// first setting at fault.
func New(cfg Config) (*Signer, error) {
	cfg = withDefaults(cfg)
	if err := validateConfig(cfg); err != nil {
		return nil, err
	}

	c := cfg.Credentials
	s := &Signer{
		secret:      c.SecretAccessKey,
		secretID:    sha256.Sum256([]byte(c.SecretAccessKey)),
		region:      cfg.Region,
		service:     cfg.Service,
		payloadHash: cfg.PayloadHash,
		https:       cfg.Scheme == "https",
		origin:      cfg.Scheme + "://",
		host:        normalizeHost(cfg.Scheme, cfg.Host),
		pathStyle:   cfg.PathStyle,
		keys:        cfg.Keys,
		credsEnd:    c.Expires,
	}
	s.ipHost = isIPHost(s.host)
	s.base = s.origin + s.host
	s.hostLine = "host:" + s.host + "\n"

	s.queryHead = "X-Amz-Algorithm=" + algorithm + "&X-Amz-Credential=" +
		string(appendEscaped(nil, c.AccessKeyID+"/", &unreserved))
	s.scope = "/" + cfg.Region + "/" + cfg.Service + "/aws4_request"
	s.scopeTail = string(appendEscaped(nil, s.scope, &unreserved)) + "&X-Amz-Date="
	if c.SessionToken != "" {
		s.tokenParam = "&X-Amz-Security-Token=" +
			string(appendEscaped(nil, c.SessionToken, &unreserved))
	}
	s.hostOnlyTail = s.tokenParam + "&X-Amz-SignedHeaders=host"
	return s, nil
}

// withDefaults fills the optional settings of cfg.
func withDefaults(cfg Config) Config {
	if cfg.Service == "" {
		cfg.Service = DefaultService
	}
	if cfg.PayloadHash == "" {
		cfg.PayloadHash = UnsignedPayload
	}
	if cfg.Keys == nil {
		cfg.Keys = defaultKeys
	}
	return cfg
}

// normalizeHost lowercases host and drops the default port of scheme.
func normalizeHost(scheme, host string) string {
	host = strings.ToLower(host)

	defaultPort := ":443"
	if scheme == "http" {
		defaultPort = ":80"
	}
	return strings.TrimSuffix(host, defaultPort)
}

// Host returns the endpoint host the signer signs for, after normalization.
func (s *Signer) Host() string { return s.host }

// hostableBucket reports whether bucket can lead a host name: 3 to 63 of
// a-z 0-9 - ., each dot-separated label starting and ending with a letter or
// digit, not an IP address, and no dot at all over HTTPS (a wildcard
// certificate covers one label only).
func hostableBucket(bucket string, https bool) bool {
	if len(bucket) < 3 || len(bucket) > 63 {
		return false
	}

	prev, dots := byte('.'), false
	for i := 0; i < len(bucket); i++ {
		c := bucket[i]
		switch {
		case isAlnum(c):
		case c == '-' && prev != '.':
		case c == '.' && !https && isAlnum(prev):
			dots = true
		default:
			return false
		}
		prev = c
	}
	if !isAlnum(prev) {
		return false
	}
	return !dots || net.ParseIP(bucket) == nil
}

// isIPHost reports whether host, with an optional port, is an IP address,
// which cannot have a bucket subdomain.
func isIPHost(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	return net.ParseIP(strings.Trim(name, "[]")) != nil
}

// isAlnum reports whether c is a lowercase letter or a digit.
func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}

// virtualHosted reports whether the URL for bucket puts it in the host.
func (s *Signer) virtualHosted(bucket string) bool {
	return bucket != "" && !s.pathStyle && !s.ipHost && hostableBucket(bucket, s.https)
}

// validateConfig checks the settings New needs.
func validateConfig(cfg Config) error {
	c := cfg.Credentials
	switch {
	case c.AccessKeyID == "":
		return mediasign.Invalidf("access key ID is empty")
	case c.SecretAccessKey == "":
		return mediasign.Invalidf("secret access key is empty")
	case !isScopePart(cfg.Region):
		return mediasign.Invalidf("region %q is not a valid scope part", cfg.Region)
	case !isScopePart(cfg.Service):
		return mediasign.Invalidf("service %q is not a valid scope part", cfg.Service)
	case hasControl(cfg.PayloadHash) || hasControl(c.AccessKeyID):
		return mediasign.Invalidf("payload hash and access key ID must be printable")
	case cfg.Scheme != "https" && cfg.Scheme != "http":
		return mediasign.Invalidf("scheme %q is neither https nor http", cfg.Scheme)
	case !isHost(cfg.Host):
		return mediasign.Invalidf("host %q is not a host with an optional port", cfg.Host)
	}
	return nil
}

// isScopePart reports whether s can be one part of a credential scope.
func isScopePart(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/ \t") && !hasControl(s)
}

// isHost reports whether s looks like host[:port], an IPv6 literal in
// brackets included, with nothing that would end the authority of a URL.
func isHost(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/?#@\\ %") && !hasControl(s)
}

// hasControl reports whether s holds an ASCII control byte.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
