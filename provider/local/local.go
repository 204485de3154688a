// Package local serves media kept in a directory of the machine that runs
// mediasign. Its URLs point at mediasign itself and carry an expiry, a key id
// and an HMAC signature, which the handler of this package checks before it
// serves the file.
package local

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

// MaxExpiry is the longest validity of a local URL.
const MaxExpiry = 366 * 24 * time.Hour

// FilesPath is the path under which the handler of this package is mounted.
const FilesPath = "/files/"

// Options configures a Storage.
type Options struct {
	// BaseURL is the URL at which clients reach mediasign, such as
	// http://127.0.0.1:8080. Signed URLs start with it.
	BaseURL string

	// Keyring signs the URLs.
	Keyring *Keyring

	// Clock tells the signing time; the system clock when nil.
	Clock mediasign.Clock
}

// Storage is an open local connection. It implements mediasign.Storage.
type Storage struct {
	connID  int64
	root    string
	baseURL string
	keyring *Keyring
	clock   mediasign.Clock
}

var _ mediasign.Storage = (*Storage)(nil)

// ValidateConfig checks that cfg names an existing, readable directory by an
// absolute path, and cleans that path. A relative root is refused: it would
// depend on the working directory of whichever process reads it.
func ValidateConfig(cfg *mediasign.LocalConfig) error {
	if cfg == nil || cfg.Root == "" {
		return mediasign.Invalidf("local connection needs a root directory")
	}
	if !filepath.IsAbs(cfg.Root) {
		return mediasign.Invalidf("local root %q is not an absolute path; "+
			"give the full path of the directory, such as /srv/media", cfg.Root)
	}

	root := filepath.Clean(cfg.Root)
	if root == filepath.VolumeName(root)+string(filepath.Separator) {
		return mediasign.Invalidf("local root %s is the file system root; "+
			"choose the directory that holds the media", root)
	}

	if err := checkRoot(root); err != nil {
		return err
	}
	cfg.Root = root
	return nil
}

// checkRoot returns an invalid-argument error unless root is a readable
// directory.
func checkRoot(root string) error {
	info, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return mediasign.Invalidf("local root %s does not exist; "+
			"create it or correct the path", root)
	case err != nil:
		return mediasign.Invalidf("local root %s cannot be read: %v", root, err)
	case !info.IsDir():
		return mediasign.Invalidf("local root %s is not a directory; "+
			"give the directory that holds the media", root)
	}

	dir, err := os.Open(root)
	if err == nil {
		_, err = dir.ReadDir(1)
		dir.Close()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return mediasign.Invalidf("local root %s is not readable: %v", root, err)
	}
	return nil
}

// New opens the local connection conn. Signing needs no access to the
// directory; Check tells whether it can be read.
func New(conn *mediasign.Connection, opts Options) (*Storage, error) {
	if conn == nil || conn.Provider != mediasign.ProviderLocal || conn.Local == nil {
		return nil, mediasign.Invalidf("connection is not a local connection")
	}
	if !filepath.IsAbs(conn.Local.Root) {
		return nil, mediasign.Invalidf("local root %q is not an absolute path", conn.Local.Root)
	}
	if opts.Keyring == nil {
		return nil, fmt.Errorf("open local connection %d: no keyring", conn.ID)
	}

	base, err := checkBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}

	clock := opts.Clock
	if clock == nil {
		clock = mediasign.SystemClock{}
	}
	return &Storage{
		connID:  conn.ID,
		root:    filepath.Clean(conn.Local.Root),
		baseURL: base,
		keyring: opts.Keyring,
		clock:   clock,
	}, nil
}

// checkBaseURL returns base without a trailing slash, or an error unless it
// is an absolute http or https URL without query or fragment.
func checkBaseURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", mediasign.Invalidf("base URL %q is not an http or https URL "+
			"such as http://127.0.0.1:8080", base)
	}
	return strings.TrimRight(base, "/"), nil
}

// MaxExpiry returns the longest validity of a local URL.
func (s *Storage) MaxExpiry() time.Duration { return MaxExpiry }

// CacheScope names what local URLs depend on besides the connection: the
// base URL they point at and the signing key. After a move to another
// address or a key rotation, cached URLs are signed again, so a key can be
// removed once the URLs it signed have expired or been replaced.
func (s *Storage) CacheScope() string {
	return s.baseURL + " " + s.keyring.Active().ID
}

// SignURL returns a URL that lets its holder GET or HEAD one file until the
// URL expires. Local connections take no uploads and have no buckets.
// Validity is counted in whole seconds from the current second.
func (s *Storage) SignURL(_ context.Context, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	if err := checkSignRequest(req); err != nil {
		return mediasign.SignedURL{}, err
	}

	expiresAt := s.clock.Now().Truncate(time.Second).Add(req.Expires.Truncate(time.Second))
	kid, secret := s.keyring.active()
	sc := getMACScratch()
	defer putMACScratch(sc)

	mac := sc.mac(secret, &signedFields{
		keyID:   kid,
		method:  mediasign.MethodGet,
		connID:  s.connID,
		root:    s.root,
		key:     req.Key,
		expires: expiresAt.Unix(),
	})

	b := append(sc.buf[:0], s.baseURL...)
	b = append(b, FilesPath...)
	b = strconv.AppendInt(b, s.connID, 10)
	b = append(b, '/')
	b = appendEscapedKey(b, req.Key)
	b = append(b, "?"+ParamExpires+"="...)
	b = strconv.AppendInt(b, expiresAt.Unix(), 10)
	b = append(b, "&"+ParamKeyID+"="...)
	b = append(b, kid...)
	b = append(b, "&"+ParamSignature+"="...)
	b = base64.RawURLEncoding.AppendEncode(b, mac)
	sc.buf = b

	return mediasign.SignedURL{URL: string(b), ExpiresAt: expiresAt}, nil
}

// checkSignRequest returns an invalid-argument error for a request that a
// local connection cannot sign.
func checkSignRequest(req mediasign.SignRequest) error {
	switch {
	case req.Method == mediasign.MethodPut:
		return mediasign.Invalidf("local connections do not take uploads; " +
			"only GET URLs can be signed")
	case req.Method != mediasign.MethodGet:
		return mediasign.Invalidf("method %q cannot be signed; local connections "+
			"sign GET URLs only", req.Method)
	case req.Bucket != "":
		return mediasign.Invalidf("local connections have no buckets; "+
			"bucket must be empty, got %q", req.Bucket)
	case req.Expires < time.Second || req.Expires > MaxExpiry:
		return mediasign.Invalidf("expiry %v is out of range; local URLs are valid "+
			"for 1 to %d seconds", req.Expires, int64(MaxExpiry/time.Second))
	case req.ResponseContentType != "" || req.ResponseContentDisposition != "":
		// TODO: Carry response header overrides in the URL and its signature;
		// until then they are refused rather than silently dropped.
		return mediasign.Invalidf("local connections do not support response " +
			"header overrides")
	}

	if reason := checkObjectKey(req.Key); reason != "" {
		return mediasign.Invalidf("key %q cannot name a file of a local connection: %s",
			req.Key, reason)
	}
	return nil
}

// Check verifies that the root directory exists and can be read. Local
// connections have no buckets, so bucket must be empty.
func (s *Storage) Check(ctx context.Context, bucket string) error {
	if bucket != "" {
		return mediasign.Invalidf("local connections have no buckets; "+
			"bucket must be empty, got %q", bucket)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	if err := checkRoot(s.root); err != nil {
		return mediasign.Unavailable(mediasign.PublicMessage(err), nil)
	}
	return nil
}
