package local

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/mediatype"
)

// contentSecurityPolicy keeps a served file from running scripts in the
// origin of mediasign, whatever its type.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

// signatureEncoding decodes signatures and refuses non-canonical spellings.
var signatureEncoding = base64.RawURLEncoding.Strict()

type handler struct {
	lookup  func(ctx context.Context, id int64) (*mediasign.Connection, error)
	keyring *Keyring
	clock   mediasign.Clock
	logger  *slog.Logger
}

// NewHandler returns the handler that serves signed local URLs. It is meant
// to be mounted at FilesPath and reads the full request path
// /files/{connection id}/{key}. It checks the URL's signature and expiry
// with kr and clock, then serves the file with support for Range,
// conditional requests and HEAD. A nil clock is the system clock; a nil
// logger discards.
func NewHandler(lookup func(ctx context.Context, id int64) (*mediasign.Connection, error),
	kr *Keyring, clock mediasign.Clock, logger *slog.Logger) http.Handler {
	if clock == nil {
		clock = mediasign.SystemClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &handler{lookup: lookup, keyring: kr, clock: clock, logger: logger}
}

// httpError is an error answer: its message is shown to the client.
type httpError struct {
	status  int
	code    mediasign.Code
	message string
}

func (e *httpError) Error() string { return e.message }

func forbidden(message string) *httpError {
	return &httpError{http.StatusForbidden, mediasign.CodeForbidden, message}
}

func invalidSignature(reason string) *httpError {
	return forbidden("URL signature is invalid: " + reason)
}

var (
	errExpired = forbidden("URL signature has expired")
	errNoFile  = &httpError{http.StatusNotFound, mediasign.CodeNotFound, "file not found"}
	errMethod  = &httpError{http.StatusMethodNotAllowed, mediasign.CodeInvalid,
		"method not allowed; use GET or HEAD"}
	errInternal = &httpError{http.StatusInternalServerError, mediasign.CodeInternal,
		"internal error"}
)

// ServeHTTP serves one signed URL or writes a JSON error.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.serve(w, r); err != nil {
		if err.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, HEAD")
		}
		writeError(w, err)
	}
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) *httpError {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errMethod
	}

	connID, key, ok := parseFilePath(r.URL.EscapedPath())
	if !ok {
		return errNoFile
	}

	q, herr := parseSignedQuery(r.URL.RawQuery)
	if herr != nil {
		return herr
	}

	now := h.clock.Now()
	expiresAt := time.Unix(q.expires, 0)
	if !now.Before(expiresAt) {
		return errExpired
	}

	secret, ok := h.keyring.secret(q.keyID)
	if !ok {
		return invalidSignature("unknown " + ParamKeyID)
	}

	root, herr := h.connectionRoot(r.Context(), connID)
	if herr != nil {
		return herr
	}

	want := computeMAC(secret, signedFields{
		keyID: q.keyID, method: mediasign.MethodGet, connID: connID,
		root: root, key: key, expires: q.expires,
	})
	if !hmac.Equal(want, q.signature) {
		return invalidSignature("signature does not match")
	}

	return h.serveFile(w, r, connID, root, key, expiresAt.Sub(now))
}

// connectionRoot returns the root directory of local connection id.
func (h *handler) connectionRoot(ctx context.Context, id int64) (string, *httpError) {
	conn, err := h.lookup(ctx, id)
	switch {
	case mediasign.ErrorCode(err) == mediasign.CodeNotFound:
		return "", errNoFile
	case err != nil:
		h.logger.ErrorContext(ctx, "look up local connection",
			slog.Int64("connection_id", id), slog.Any("error", err))
		return "", errInternal
	case conn == nil || conn.Provider != mediasign.ProviderLocal || conn.Local == nil:
		return "", errNoFile
	}
	return conn.Local.Root, nil
}

// parseFilePath splits an escaped path /files/{id}/{key} into the connection
// id and the key, unescaped once.
func parseFilePath(escaped string) (int64, string, bool) {
	rest, ok := strings.CutPrefix(escaped, FilesPath)
	if !ok {
		return 0, "", false
	}
	idText, escapedKey, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, "", false
	}

	id, ok := parseCanonicalInt(idText)
	if !ok || id <= 0 {
		return 0, "", false
	}

	key, err := url.PathUnescape(escapedKey)
	if err != nil || checkObjectKey(key) != "" {
		return 0, "", false
	}
	return id, key, true
}

// signedQuery holds the signature parameters of a URL.
type signedQuery struct {
	expires   int64
	keyID     string
	signature []byte
}

// parseSignedQuery reads the three signature parameters, each of which must
// appear exactly once and be well formed.
func parseSignedQuery(raw string) (signedQuery, *httpError) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return signedQuery{}, invalidSignature("malformed query string")
	}

	var q signedQuery
	for _, name := range []string{ParamExpires, ParamKeyID, ParamSignature} {
		switch len(values[name]) {
		case 0:
			return q, invalidSignature("missing " + name)
		case 1:
		default:
			return q, invalidSignature(name + " appears more than once")
		}
	}

	var ok bool
	if q.expires, ok = parseCanonicalInt(values.Get(ParamExpires)); !ok {
		return q, invalidSignature("malformed " + ParamExpires)
	}
	if q.keyID = values.Get(ParamKeyID); !validKeyID(q.keyID) {
		return q, invalidSignature("malformed " + ParamKeyID)
	}
	q.signature, err = signatureEncoding.DecodeString(values.Get(ParamSignature))
	if err != nil || len(q.signature) != 32 {
		return q, invalidSignature("malformed " + ParamSignature)
	}
	return q, nil
}

// parseCanonicalInt parses a non-negative decimal integer written without
// sign or leading zeros.
func parseCanonicalInt(s string) (int64, bool) {
	if s == "" || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// serveFile serves the regular file key under root, never a file outside
// root, a directory or a special file.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, connID int64,
	rootDir, key string, validFor time.Duration) *httpError {
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		h.logger.WarnContext(r.Context(), "open local root",
			slog.Int64("connection_id", connID), slog.Any("error", err))
		return errNoFile
	}
	defer root.Close()

	// Stat first, so that a FIFO is never opened (opening one blocks).
	f, info, err := openRegular(root, key)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotRegular) {
			h.logger.WarnContext(r.Context(), "open local file",
				slog.Int64("connection_id", connID), slog.String("key", key),
				slog.Any("error", err))
		}
		return errNoFile
	}
	defer f.Close()

	hdr := w.Header()
	hdr.Set("Content-Type", mediatype.FromKey(key))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("Cache-Control", "private, max-age="+
		strconv.FormatInt(int64(validFor/time.Second), 10))
	http.ServeContent(w, r, "", info.ModTime(), f)
	return nil
}

// errNotRegular reports a directory or special file where a file was asked.
var errNotRegular = errors.New("not a regular file")

func openRegular(root *os.Root, key string) (*os.File, fs.FileInfo, error) {
	info, err := root.Stat(key)
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, errNotRegular
	}

	f, err := root.Open(key)
	if err != nil {
		return nil, nil, err
	}
	info, err = f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// writeError writes err as a JSON error body.
func writeError(w http.ResponseWriter, err *httpError) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(err.status)

	var body struct {
		Error struct {
			Code    mediasign.Code `json:"code"`
			Message string         `json:"message"`
		} `json:"error"`
	}
	body.Error.Code = err.code
	body.Error.Message = err.message
	json.NewEncoder(w).Encode(body)
}
