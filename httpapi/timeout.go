package httpapi

import (
	"context"
	"net/http"
)

// untimed are the routes that the request timeout does not bound: their work
// grows with a bucket or a dataset.
var untimed = map[string]bool{
	"POST /api/v1/datasets/{id}/imports":               true,
	"GET /api/v1/projects/{project}/exports/{id}/file": true,
}

// bounded returns r with the request timeout as its deadline, unless the
// route is untimed, so that no request waits past it on a database or a
// signer that does not answer.
func (s *Server) bounded(r *http.Request, pattern string) (*http.Request, context.CancelFunc) {
	if s.timeout <= 0 || untimed[pattern] {
		return r, func() {}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	return r.WithContext(ctx), cancel
}
