package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediasign/mediasign/service"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

func TestReadiness(t *testing.T) {
	failing := func(context.Context) error { return errors.New("no answer") }
	passing := func(context.Context) error { return nil }
	tests := []struct {
		name       string
		checks     []ReadyCheck
		closeStore bool
		wantCode   int
		wantStatus string
		want       map[string]string
	}{
		{"all answer", []ReadyCheck{{Name: "redis", Optional: true, Check: passing}}, false,
			200, "ready", map[string]string{"database": "ok", "redis": "ok"}},
		{"optional away", []ReadyCheck{{Name: "redis", Optional: true, Check: failing}}, false,
			200, "degraded", map[string]string{"database": "ok", "redis": "degraded"}},
		{"database away", []ReadyCheck{{Name: "redis", Optional: true, Check: failing}}, true,
			503, "unavailable", map[string]string{"database": "down", "redis": "degraded"}},
		{"required away", []ReadyCheck{{Name: "queue", Check: failing}}, false,
			503, "unavailable", map[string]string{"database": "ok", "queue": "down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := readyServer(t, tt.checks)
			if tt.closeStore {
				s.svc.Store().Close()
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))

			var body struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.wantCode || body.Status != tt.wantStatus ||
				len(body.Checks) != len(tt.want) {
				t.Fatalf("/readyz = %d %s, want %d %s", rec.Code, rec.Body, tt.wantCode, tt.wantStatus)
			}
			for k, v := range tt.want {
				if body.Checks[k] != v {
					t.Errorf("check %s = %q, want %q", k, body.Checks[k], v)
				}
			}
		})
	}
}

func TestRequestTimeout(t *testing.T) {
	s := &Server{timeout: 3 * time.Second}
	for pattern, bounded := range map[string]bool{
		"GET /api/v1/media/{id}/url":         true,
		"GET /m/{id}":                        true,
		"":                                   true,
		"POST /api/v1/datasets/{id}/imports": false,
		"GET /api/v1/projects/{project}/exports/{id}/file": false,
	} {
		r, cancel := s.bounded(httptest.NewRequest("GET", "/", nil), pattern)
		deadline, ok := r.Context().Deadline()
		cancel()
		if ok != bounded || (ok && time.Until(deadline) > 3*time.Second) {
			t.Errorf("%q: deadline %v (set %v), want set %v within 3s", pattern, deadline, ok, bounded)
		}
	}

	s.timeout = 0
	r, cancel := s.bounded(httptest.NewRequest("GET", "/", nil), "GET /m/{id}")
	defer cancel()
	if _, ok := r.Context().Deadline(); ok {
		t.Error("a zero request timeout set a deadline")
	}
}

func readyServer(t *testing.T, checks []ReadyCheck) *Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cache := urlcache.New(urlcache.Options{Policy: urlcache.DefaultPolicy(), Store: st})
	svc := service.New(service.Options{Store: st, Cache: cache})
	return New(Options{Service: svc, Checks: checks})
}
