package mediasign

import (
	"errors"
	"fmt"
)

// Code classifies an error for the API.
type Code string

// Codes that errors carry to API clients.
const (
	CodeInvalid      Code = "invalid_argument"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeUnauthorized Code = "unauthorized"
	CodeForbidden    Code = "forbidden"
	CodeUnavailable  Code = "unavailable"
	CodeInternal     Code = "internal"
)

// Sentinel errors that backends and providers wrap.
var (
	ErrNotFound     = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict     = &Error{Code: CodeConflict, Message: "already exists"}
	ErrUnauthorized = &Error{Code: CodeUnauthorized, Message: "missing or invalid credentials"}
	ErrUnavailable  = &Error{Code: CodeUnavailable, Message: "service unavailable"}
)

// Error is an error with a code and a message that is safe to show to a
// client. Err holds internal detail that is logged, never shown.
type Error struct {
	Code    Code
	Message string
	Err     error
}

// Error returns the public message followed by the internal detail.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}

// Unwrap returns the internal error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code and no message of
// its own differing, so errors.Is(err, ErrNotFound) matches any not-found error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Err == nil
}

// Invalidf returns an invalid-argument error whose message is shown to the
// client.
func Invalidf(format string, args ...any) error {
	return &Error{Code: CodeInvalid, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a not-found error whose message is shown to the client.
func NotFoundf(format string, args ...any) error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// Conflictf returns a conflict error whose message is shown to the client.
func Conflictf(format string, args ...any) error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

// Unavailable returns an unavailable error with a public message and the
// internal cause.
func Unavailable(message string, err error) error {
	return &Error{Code: CodeUnavailable, Message: message, Err: err}
}

// ErrorCode returns the code of err, or CodeInternal when it carries none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// PublicMessage returns the message of err that may be shown to a client.
func PublicMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
