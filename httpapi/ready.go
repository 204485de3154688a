package httpapi

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds each readiness check, so that a dependency that does
// not answer fails the check instead of holding the probe.
const readyTimeout = 2 * time.Second

// ReadyCheck is one dependency that readiness reports.
type ReadyCheck struct {
	// Name keys the check in the answer, such as "redis".
	Name string

	// Optional checks report a failure as "degraded" and keep the service
	// ready: it works without them, less well.
	Optional bool

	// Check returns nil while the dependency answers.
	Check func(ctx context.Context) error
}

// readyz answers 200 while the database answers, and 503 otherwise. The
// body says how each dependency is.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	database := ReadyCheck{Name: "database", Check: func(ctx context.Context) error {
		return s.svc.Store().Ping(ctx)
	}}
	checks := map[string]string{}
	status, code := "ready", http.StatusOK
	for _, c := range append([]ReadyCheck{database}, s.checks...) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		err := c.Check(ctx)
		cancel()
		switch {
		case err == nil:
			checks[c.Name] = "ok"
		case c.Optional:
			checks[c.Name] = "degraded"
			if code == http.StatusOK {
				status = "degraded"
			}
		default:
			s.logger.WarnContext(r.Context(), "readiness check failed", "check", c.Name,
				"error", err)
			checks[c.Name] = "down"
			status, code = "unavailable", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}
