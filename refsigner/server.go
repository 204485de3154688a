// Package refsigner is mediasign's reference custom URL signer: a small
// HTTP service that decides, for each user, whether a URL may be signed,
// and signs it with its own S3 credentials. It speaks the protocol of
// mediasign's design: GET {base}/{bucket}/?key=...&method=get|put, with the
// optional expires={seconds} that shortens the validity it signs for, and the
// caller's JWT (jwt mode) or session cookie (session mode), answered with
// {"url", "expires_at", "headers"}; and the batch extension, POST
// {base}/{bucket}/?method=... with {"items": [{"key", "content_type"}]}.
// Teams can run it as it is, read it, and adapt it.
package refsigner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth/oidc"
	s3provider "github.com/mediasign/mediasign/provider/s3"
)

// Limits of requests.
const (
	maxKeyBytes   = 1024
	maxBatchItems = 1000
	maxBatchBody  = 1 << 20
)

// Options holds what New needs besides the Config.
type Options struct {
	Clock  mediasign.Clock
	Logger *slog.Logger

	// HTTPClient reaches the OAuth2 provider and mediasign; nil means one
	// with a 10 second timeout that follows no redirect.
	HTTPClient *http.Client
}

// Server is a running reference signer.
type Server struct {
	cfg     Config
	policy  *Policy
	storage mediasign.Storage
	who     identifier
	clock   mediasign.Clock
	logger  *slog.Logger
	mux     *http.ServeMux
}

// New checks cfg, loads the policy, opens the S3 credentials and, in jwt
// mode, fetches the provider's keys.
func New(ctx context.Context, cfg Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	policy, err := LoadPolicy(cfg.PolicyFile)
	if err != nil {
		return nil, err
	}
	st, err := s3provider.New(&mediasign.Connection{Name: "signer", Provider: mediasign.ProviderS3,
		S3: &cfg.S3}, s3provider.Options{Clock: opts.Clock, HTTPClient: opts.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("open the signer's S3 credentials: %w", err)
	}
	who, err := newIdentifier(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}

	s := &Server{cfg: cfg, policy: policy, storage: st, who: who, clock: opts.Clock,
		logger: opts.Logger, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /{bucket}/{$}", s.signOne)
	s.mux.HandleFunc("POST /{bucket}/{$}", s.signBatch)
	return s, nil
}

func withDefaults(opts Options) Options {
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return opts
}

// newIdentifier builds the check of the configured mode, behind the
// service token.
func newIdentifier(ctx context.Context, cfg Config, opts Options) (identifier, error) {
	var next identifier
	switch cfg.Mode {
	case ModeJWT:
		v, err := oidc.New(ctx, oidc.Config{Issuer: cfg.Issuer, Audience: cfg.Audience,
			Algorithms: cfg.Algorithms, RoleClaim: cfg.RoleClaim, HTTPClient: opts.HTTPClient,
			Clock: opts.Clock})
		if err != nil {
			return nil, fmt.Errorf("set up jwt mode: %w", err)
		}
		next = jwtIdentifier{verifier: v}
	default:
		next = &sessionIdentifier{url: cfg.MediasignURL + "/api/v1/signer/introspect",
			secret: cfg.IntrospectionSecret, cookie: cfg.CookieName, ttl: cfg.SessionTTL,
			client: opts.HTTPClient, clock: opts.Clock,
			known: make(map[[32]byte]knownSession)}
	}
	return withService{token: cfg.ServiceToken, next: next}, nil
}

// ServeHTTP serves one request and writes one log line for it, without
// the key, the credential or the URL.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	s.mux.ServeHTTP(rec, r)

	level := slog.LevelInfo
	if rec.code >= 500 {
		level = slog.LevelError
	}
	s.logger.LogAttrs(r.Context(), level, "signer request", slog.String("method", r.Method),
		slog.String("route", r.Pattern), slog.Int("status", rec.code),
		slog.String("user", rec.user), slog.Duration("duration", time.Since(start)))
}

type statusRecorder struct {
	http.ResponseWriter
	code int
	user string
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// signOne answers GET /{bucket}/?key=...&method=get|put.
func (s *Server) signOne(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m, err := parseMethod(q.Get("method"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pr, ok := s.identify(w, r)
	if !ok {
		return
	}

	expires, err := s.validity(q.Get("expires"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	bucket := r.PathValue("bucket")
	status, a := s.sign(r.Context(), pr, bucket, q.Get("key"), m, r.Header.Get("Content-Type"),
		expires)
	if status != http.StatusOK {
		writeError(w, status, a.Error)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// identify finds the caller, answering 401 (or 502 when mediasign cannot be
// asked) when it cannot.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	pr, err := s.who.identify(r.Context(), r)
	switch {
	case errors.Is(err, errNoCredential) || errors.Is(err, errBadCredential):
		writeError(w, http.StatusUnauthorized, err.Error())
		return Principal{}, false
	case err != nil:
		s.logger.WarnContext(r.Context(), "identify caller", "error", err)
		writeError(w, http.StatusBadGateway, "the caller could not be checked: try again")
		return Principal{}, false
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.user = pr.User
		if pr.Service {
			rec.user = "(service)"
		}
	}
	return pr, true
}

func parseMethod(s string) (mediasign.Method, error) {
	switch strings.ToLower(s) {
	case "", "get":
		return mediasign.MethodGet, nil
	case "put":
		return mediasign.MethodPut, nil
	}
	return "", fmt.Errorf("method %q is not get or put", s)
}

// result is the answer for one key: a URL, or a status with an error.
type result struct {
	URL       string            `json:"url,omitempty"`
	ExpiresAt *time.Time        `json:"expires_at,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Status    int               `json:"status,omitempty"`
	Error     string            `json:"error,omitempty"`
}

// validity returns how long to sign for: the configured validity, or less
// when the optional expires parameter (whole seconds) asks for less.
func (s *Server) validity(param string) (time.Duration, error) {
	if param == "" {
		return s.cfg.Expires, nil
	}
	n, err := strconv.ParseInt(param, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("expires %q is not a positive whole number of seconds", param)
	}
	if n >= int64(s.cfg.Expires/time.Second) {
		return s.cfg.Expires, nil
	}
	return time.Duration(n) * time.Second, nil
}

// sign checks the key and the policy, refuses an upload over an existing
// object when told to, and signs for expires.
func (s *Server) sign(ctx context.Context, pr Principal, bucket, key string, m mediasign.Method,
	contentType string, expires time.Duration) (int, result) {
	if err := checkKey(key); err != nil {
		return http.StatusBadRequest, result{Status: http.StatusBadRequest, Error: err.Error()}
	}
	if !s.policy.Allows(pr, bucket, key, m) {
		return http.StatusForbidden, result{Status: http.StatusForbidden,
			Error: "the policy does not let you " + strings.ToLower(string(m)) + " this object"}
	}
	if m == mediasign.MethodPut && s.cfg.NoOverwrite {
		if status, r, done := s.refuseOverwrite(ctx, bucket, key); done {
			return status, r
		}
	}

	u, err := s.storage.SignURL(ctx, mediasign.SignRequest{Bucket: bucket, Key: key, Method: m,
		Expires: expires, ContentType: contentType})
	if err != nil {
		s.logger.WarnContext(ctx, "sign url", "error", err)
		return http.StatusInternalServerError, result{Status: http.StatusInternalServerError,
			Error: "the URL could not be signed"}
	}
	exp := u.ExpiresAt.UTC()
	return http.StatusOK, result{URL: u.URL, ExpiresAt: &exp, Headers: u.Headers}
}

// checkKey refuses empty and oversized keys, control characters, and "."
// or ".." segments, which some S3-compatible servers on a file system would
// resolve outside the prefix a rule grants.
func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("key is empty")
	case len(key) > maxKeyBytes:
		return fmt.Errorf("key is longer than %d bytes", maxKeyBytes)
	case !utf8.ValidString(key):
		return errors.New("key is not UTF-8")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] == 0x7f {
			return errors.New("key holds a control character")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return errors.New(`key holds a "." or ".." segment`)
		}
	}
	return nil
}

// refuseOverwrite answers 409 when an object already has key. done is
// false when the upload may go on.
func (s *Server) refuseOverwrite(ctx context.Context, bucket, key string) (int, result, bool) {
	exists, err := s.exists(ctx, bucket, key)
	if err != nil {
		s.logger.WarnContext(ctx, "check whether the object exists", "error", err)
		return http.StatusBadGateway, result{Status: http.StatusBadGateway,
			Error: "the bucket could not be checked: try again"}, true
	}
	if exists {
		return http.StatusConflict, result{Status: http.StatusConflict,
			Error: "an object with this key exists"}, true
	}
	return 0, result{}, false
}

// errStop ends a listing after its first page.
var errStop = errors.New("stop listing")

// exists lists the key as a prefix: the object itself, if any, comes
// first.
func (s *Server) exists(ctx context.Context, bucket, key string) (bool, error) {
	found := false
	err := s.storage.List(ctx, bucket, key, func(page []mediasign.Object) error {
		found = len(page) > 0 && page[0].Key == key
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return found, err
}
