package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/mediasign/mediasign"
)

// maxBody bounds request bodies.
const maxBody = 1 << 20

// errorBody is the JSON form of every error answer.
type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Code    mediasign.Code `json:"code"`
	Message string         `json:"message"`
}

// status maps an error code to an HTTP status.
func status(code mediasign.Code) int {
	switch code {
	case mediasign.CodeInvalid:
		return http.StatusBadRequest
	case mediasign.CodeNotFound:
		return http.StatusNotFound
	case mediasign.CodeConflict:
		return http.StatusConflict
	case mediasign.CodeUnauthorized:
		return http.StatusUnauthorized
	case mediasign.CodeForbidden:
		return http.StatusForbidden
	case mediasign.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// publicError turns err into what a client may see.
func publicError(err error) apiError {
	if errors.Is(err, errTooLarge) {
		return apiError{Code: mediasign.CodeInvalid, Message: errTooLarge.Error()}
	}
	return apiError{Code: mediasign.ErrorCode(err), Message: mediasign.PublicMessage(err)}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers with the error's status and public message, and keeps
// the internal detail for the request log.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := publicError(err)
	code := status(e.Code)
	if errors.Is(err, errTooLarge) {
		code = http.StatusRequestEntityTooLarge
	}
	if code >= 500 {
		s.logger.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "error", err)
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mediasign"`)
	}
	writeJSON(w, code, errorBody{Error: e})
}

var errTooLarge = errors.New("request body is larger than 1 MiB: send fewer items per request")

// decode reads a JSON body into v, refusing unknown fields, trailing data
// and oversized bodies with messages that say what was wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return mediasign.Invalidf("Content-Type %q is not supported: send application/json", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return errTooLarge
		case errors.Is(err, io.EOF):
			return mediasign.Invalidf("request body is empty: send a JSON object")
		}
		return mediasign.Invalidf("request body is not valid JSON for this endpoint: %s", jsonProblem(err))
	}
	if dec.More() {
		return mediasign.Invalidf("request body holds more than one JSON value")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return "field " + typeErr.Field + " must be " + typeErr.Type.String()
	case errors.As(err, &syntaxErr):
		return "syntax error"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed JSON"
}

// discardLogger returns l, or a logger that drops everything.
func discardLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
