// Package httpapi serves mediasign's HTTP API, the redirect endpoint and
// the local file URLs.
package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/metrics"
	"github.com/mediasign/mediasign/service"
)

// Options configures a Server.
type Options struct {
	Service *service.Service
	Admin   *auth.AdminToken

	// Files serves the URLs of local connections under /files/.
	Files http.Handler

	Clock   mediasign.Clock
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Version string
}

// Server is the HTTP face of a Service.
type Server struct {
	svc     *service.Service
	admin   *auth.AdminToken
	clock   mediasign.Clock
	logger  *slog.Logger
	metrics *metrics.Metrics
	version string
	mux     *http.ServeMux
}

// New builds the server and its routes.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	s := &Server{svc: opts.Service, admin: opts.Admin, clock: opts.Clock,
		logger: discardLogger(opts.Logger), metrics: opts.Metrics, version: opts.Version,
		mux: http.NewServeMux()}
	s.routes(opts.Files)
	return s
}

func (s *Server) routes(files http.Handler) {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.metrics != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	}
	if files != nil {
		s.mux.Handle("/files/", files)
	}
	s.mux.Handle("GET /{$}", http.HandlerFunc(s.gallery))

	s.handle("GET /api/v1/info", s.info)
	s.handle("GET /api/v1/media/{id}/url", s.mediaURL)
	s.handle("POST /api/v1/media/urls", s.batchURLs)
	s.handle("GET /m/{id}", s.redirect)

	s.handle("GET /api/v1/connections", s.listConnections)
	s.handle("POST /api/v1/connections", s.addConnection)
	s.handle("GET /api/v1/connections/{name}", s.getConnection)
	s.handle("PUT /api/v1/connections/{name}", s.updateConnection)
	s.handle("POST /api/v1/connections/{name}/test", s.testConnection)

	s.handle("GET /api/v1/projects", s.listProjects)
	s.handle("POST /api/v1/projects", s.addProject)
	s.handle("GET /api/v1/projects/{project}/datasets", s.listDatasets)
	s.handle("POST /api/v1/projects/{project}/datasets", s.addDataset)
	s.handle("GET /api/v1/datasets/{id}", s.getDataset)
	s.handle("GET /api/v1/datasets/{id}/media", s.listMedia)
	s.handle("POST /api/v1/datasets/{id}/imports", s.importMedia)
}

// handlerFunc is a handler that returns its error for one place to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers an API route that needs the admin token.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := s.admin.Check(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

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

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Store().Ping(r.Context()); err != nil {
		s.logger.WarnContext(r.Context(), "readiness check failed", "error", err)
		writeJSON(w, http.StatusServiceUnavailable,
			map[string]any{"status": "unavailable", "checks": map[string]string{"database": "down"}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready",
		"checks": map[string]string{"database": "ok"}})
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
