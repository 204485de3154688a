package local

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
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

// expired returns the answer to a URL whose time is up.
func expired(at time.Time) *httpError {
	return forbidden("URL expired at " + at.UTC().Format(time.RFC3339) +
		"; ask for a new URL")
}

var (
	errNoFile = &httpError{http.StatusNotFound, mediasign.CodeNotFound, "file not found"}
	errBadMAC = invalidSignature("signature does not match; use the URL exactly " +
		"as it was given, or ask for a new one")
	errUnknownKey = invalidSignature("it was signed with a key this server does not " +
		"have (the key was removed, or the URL comes from another installation); ask for a new URL")
	errMethod = &httpError{http.StatusMethodNotAllowed, mediasign.CodeInvalid,
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

	connID, key, herr := parseFilePath(r.URL.EscapedPath())
	if herr != nil {
		return herr
	}

	q, herr := parseSignedQuery(r.URL.RawQuery)
	if herr != nil {
		return herr
	}

	now := h.clock.Now()
	expiresAt := time.Unix(q.expires, 0)
	if !now.Before(expiresAt) {
		return expired(expiresAt)
	}

	secret, ok := h.keyring.secret(q.keyID)
	if !ok {
		return errUnknownKey
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
		return errBadMAC
	}

	return h.serveFile(w, r, connID, root, key, expiresAt.Sub(now))
}

// connectionRoot returns the root directory of local connection id. A
// connection that does not exist, or is not local, gets the same answer as a
// wrong signature, so that unsigned requests learn nothing about connections.
func (h *handler) connectionRoot(ctx context.Context, id int64) (string, *httpError) {
	conn, err := h.lookup(ctx, id)
	switch {
	case mediasign.ErrorCode(err) == mediasign.CodeNotFound:
		return "", errBadMAC
	case err != nil:
		h.logger.ErrorContext(ctx, "look up local connection",
			slog.Int64("connection_id", id), slog.Any("error", err))
		return "", errInternal
	case conn == nil || conn.Provider != mediasign.ProviderLocal || conn.Local == nil:
		return "", errBadMAC
	}
	return conn.Local.Root, nil
}

// parseFilePath splits an escaped path /files/{id}/{key} into the connection
// id and the key, unescaped once. The key must be escaped exactly as SignURL
// escapes it, so that no two spellings of a path pass the same signature.
func parseFilePath(escaped string) (int64, string, *httpError) {
	rest, ok := strings.CutPrefix(escaped, FilesPath)
	if !ok {
		return 0, "", errNoFile
	}
	idText, escapedKey, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, "", errNoFile
	}

	id, ok := parseCanonicalInt(idText)
	if !ok || id <= 0 {
		return 0, "", errNoFile
	}

	key, err := url.PathUnescape(escapedKey)
	if err != nil || checkObjectKey(key) != "" {
		return 0, "", errNoFile
	}
	if string(appendEscapedKey(nil, key)) != escapedKey {
		return 0, "", invalidSignature("the path is not spelled as it was signed; " +
			"use the URL exactly as it was given")
	}
	return id, key, nil
}

// signedQuery holds the signature parameters of a URL.
type signedQuery struct {
	expires   int64
	keyID     string
	signature []byte
}

// signedParams are the query parameters of a signed URL, in the order
// SignURL writes them.
var signedParams = [...]string{ParamExpires, ParamKeyID, ParamSignature}

// parseSignedQuery reads the three signature parameters from the raw query.
// Each must appear exactly once, spelled as SignURL writes it (none of their
// values needs escaping), and no other parameter may appear: a URL is
// accepted only in the form it was handed out.
func parseSignedQuery(raw string) (signedQuery, *httpError) {
	if raw == "" {
		return signedQuery{}, forbidden("URL is not signed: it has no " + ParamExpires +
			", " + ParamKeyID + " and " + ParamSignature + " parameters")
	}

	var values [len(signedParams)]string
	var seen [len(signedParams)]bool
	for part := range strings.SplitSeq(raw, "&") {
		name, value, _ := strings.Cut(part, "=")
		i := slices.Index(signedParams[:], name)
		switch {
		case i < 0:
			return signedQuery{}, invalidSignature("the query has a parameter that " +
				"was not signed; use the URL exactly as it was given")
		case seen[i]:
			return signedQuery{}, invalidSignature(name + " appears more than once")
		}
		values[i], seen[i] = value, true
	}
	for i, name := range signedParams {
		if !seen[i] {
			return signedQuery{}, invalidSignature("missing " + name)
		}
	}
	return decodeSignedQuery(values[0], values[1], values[2])
}

// decodeSignedQuery checks and decodes the raw values of the signature
// parameters.
func decodeSignedQuery(expires, keyID, signature string) (signedQuery, *httpError) {
	var (
		q   signedQuery
		ok  bool
		err error
	)
	if q.expires, ok = parseCanonicalInt(expires); !ok {
		return q, invalidSignature("malformed " + ParamExpires)
	}
	if q.keyID = keyID; !validKeyID(q.keyID) {
		return q, invalidSignature("malformed " + ParamKeyID)
	}
	q.signature, err = signatureEncoding.DecodeString(signature)
	if err != nil || len(q.signature) != sha256.Size {
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

// openRegular opens the regular file key under root. It stats first, so that
// devices are never opened, and opens without blocking, so that a file
// swapped for a FIFO in between cannot hold the request.
func openRegular(root *os.Root, key string) (*os.File, fs.FileInfo, error) {
	info, err := root.Stat(key)
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, errNotRegular
	}

	f, err := root.OpenFile(key, openReadFlags, 0)
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
