package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
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
	case mediasign.CodeBadGateway:
		return http.StatusBadGateway
	case mediasign.CodeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// publicError turns err into what a client may see.
func publicError(err error) apiError {
	if errors.Is(err, errTooLarge) {
		return apiError{Code: mediasign.CodeInvalid, Message: errTooLarge.Error()}
	}
	var limited *auth.RateLimitError
	if errors.As(err, &limited) {
		return apiError{Code: mediasign.CodeRateLimited, Message: limited.Error()}
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
		s.logger.ErrorContext(r.Context(), "request failed", "request_id",
			w.Header().Get("X-Request-Id"), "route", r.Pattern, "error", err)
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mediasign"`)
	}
	var limited *auth.RateLimitError
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.FormatInt(limited.Seconds(), 10))
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
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return "the body must be a JSON object, not " + typeErr.Value
		}
		return fmt.Sprintf("field %q must be %s, not %s", typeErr.Field, kindName(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("syntax error at byte %d", syntaxErr.Offset)
	case errors.As(err, &timeErr):
		return fmt.Sprintf("time %s is not RFC 3339, for example 2026-12-31T23:00:00Z", timeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ") + ": check the spelling"
	}
	return "malformed JSON"
}

// kindName names a Go type the way a JSON client thinks of it.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	}
	return "another type"
}

// discardLogger returns l, or a logger that drops everything.
func discardLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
