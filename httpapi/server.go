// Package httpapi serves mediasign's HTTP API, the redirect endpoint and
// the local file URLs.
package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/metrics"
	"github.com/mediasign/mediasign/service"
)

// Options configures a Server.
type Options struct {
	Service *service.Service

	// Auth finds the caller of each request and checks what they may do.
	Auth *auth.Authenticator

	// Files serves the URLs of local connections under /files/.
	Files http.Handler

	Clock   mediasign.Clock
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Version string

	// Checks are what readiness reports besides the database.
	Checks []ReadyCheck

	// RequestTimeout bounds each request but the long-running ones; 0
	// means no bound.
	RequestTimeout time.Duration

	// Exports runs export jobs; the export routes answer 503 without it.
	Exports *export.Manager
}

// Server is the HTTP face of a Service.
type Server struct {
	svc     *service.Service
	auth    *auth.Authenticator
	clock   mediasign.Clock
	logger  *slog.Logger
	metrics *metrics.Metrics
	version string
	checks  []ReadyCheck
	timeout time.Duration
	exports *export.Manager
	mux     *http.ServeMux

	// rules holds the access rule of every route, by pattern.
	rules map[string]rule
}

// New builds the server and its routes.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	s := &Server{svc: opts.Service, auth: opts.Auth, clock: opts.Clock,
		logger: discardLogger(opts.Logger), metrics: opts.Metrics, version: opts.Version,
		checks: opts.Checks, timeout: opts.RequestTimeout, exports: opts.Exports,
		mux: http.NewServeMux(), rules: make(map[string]rule)}
	s.routes(opts.Files)
	return s
}

func (s *Server) routes(files http.Handler) {
	s.public("GET /healthz", http.HandlerFunc(s.healthz))
	s.public("GET /readyz", http.HandlerFunc(s.readyz))
	if s.metrics != nil {
		s.public("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	}
	if files != nil {
		// Local file URLs carry their own signature.
		s.public("/files/", files)
	}
	s.public("GET /{$}", http.HandlerFunc(s.gallery))

	s.handle("GET /api/v1/auth", publicRoute, s.authInfo)
	s.handle("POST /api/v1/login", publicRoute, s.login)
	s.handle("POST /api/v1/logout", publicRoute, s.logout)
	s.handle("GET /api/v1/me", signedIn, s.me)
	s.handle("GET /api/v1/info", signedIn, s.info)

	s.handle("GET /api/v1/media/{id}/url", inProject(mediasign.RoleViewer, projectOfMedia), s.mediaURL)
	s.handle("POST /api/v1/media/urls", eachItem, s.batchURLs)
	s.handle("GET /m/{id}", inProject(mediasign.RoleViewer, projectOfMedia), s.redirect)

	s.handle("GET /api/v1/connections", installAdmin, s.listConnections)
	s.handle("POST /api/v1/connections", installAdmin, s.addConnection)
	s.handle("GET /api/v1/connections/{name}", installAdmin, s.getConnection)
	s.handle("PUT /api/v1/connections/{name}", installAdmin, s.updateConnection)
	s.handle("POST /api/v1/connections/{name}/test", installAdmin, s.testConnection)
	s.handle("PUT /api/v1/connections/{name}/projects/{project}", installAdmin, s.grantConnection)
	s.handle("DELETE /api/v1/connections/{name}/projects/{project}", installAdmin,
		s.revokeConnection)

	s.handle("GET /api/v1/projects", eachItem, s.listProjects)
	s.handle("POST /api/v1/projects", installAdmin, s.addProject)
	s.handle("GET /api/v1/projects/{project}/datasets",
		inProject(mediasign.RoleViewer, projectInPath), s.listDatasets)
	s.handle("POST /api/v1/projects/{project}/datasets",
		inProject(mediasign.RoleAdmin, projectInPath), s.addDataset)
	s.handle("GET /api/v1/datasets/{id}", inProject(mediasign.RoleViewer, projectOfDataset), s.getDataset)
	s.handle("GET /api/v1/datasets/{id}/media",
		inProject(mediasign.RoleViewer, projectOfDataset), s.listMedia)
	s.handle("POST /api/v1/datasets/{id}/imports",
		inProject(mediasign.RoleAdmin, projectOfDataset), s.importMedia)
	s.handle("POST /api/v1/datasets/{id}/uploads",
		inProject(mediasign.RoleEditor, projectOfDataset), s.createUpload)

	s.identityRoutes()
	s.signerRoutes()
	s.exportRoutes()
	s.mux.HandleFunc(apiFallback, s.noRoute)
}

// noRoute answers, in JSON, an API request that matches no route: 405 with
// the allowed methods when the path exists for other methods, 404
// otherwise. The mux sends it only the requests no other route takes, so
// the lookups here cost nothing on the paths that serve.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" && p != apiFallback {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		allow := strings.Join(allowed, ", ")
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: apiError{Code: mediasign.CodeInvalid,
			Message: "method " + r.Method + " is not allowed here: use " + allow}})
		return
	}
	writeJSON(w, http.StatusNotFound, errorBody{Error: apiError{Code: mediasign.CodeNotFound,
		Message: "no API route " + truncate(r.URL.Path, 100) + ": see the README for the routes"}})
}

// apiFallback is the pattern of noRoute.
const apiFallback = "/api/"

// ServeHTTP serves one request and writes one log line for it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	id := requestID()
	rec.Header().Set("X-Request-Id", id)

	s.mux.ServeHTTP(rec, r)

	elapsed := time.Since(start)
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	s.metrics.Request(route, strconv.Itoa(rec.code), elapsed.Seconds())
	level := slog.LevelInfo
	switch {
	case rec.code >= 500:
		level = slog.LevelError
	case rec.code >= 400:
		level = slog.LevelWarn
	}
	// The route pattern, never the path or query: they may hold a key or a
	// signature.
	s.logger.LogAttrs(r.Context(), level, "http request", slog.String("request_id", id),
		slog.String("method", r.Method), slog.String("route", route),
		slog.Int("status", rec.code), slog.Duration("duration", elapsed))
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	p := s.svc.Policy()
	writeJSON(w, http.StatusOK, map[string]any{
		"version": s.version,
		"cache": map[string]int64{
			"minimum_seconds_valid":    int64(p.MinValid / time.Second),
			"new_offset_seconds_valid": int64(p.NewValid / time.Second),
		},
		"max_batch": service.MaxBatch,
	})
	return nil
}
