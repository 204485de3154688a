package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/export"
)

// withExports points the fixture at a server that runs exports, over the
// same store and authentication.
func withExports(t *testing.T, f *fixture) {
	t.Helper()
	svc := f.service()
	exporter := export.New(export.Options{Store: f.store, Service: svc,
		PublicURL: "http://mediasign.test", Clock: f.clock})
	m, err := export.NewManager(export.ManagerOptions{Exporter: exporter, Store: f.store,
		Dir: filepath.Join(t.TempDir(), "exports"), Clock: f.clock})
	must(t, err)
	t.Cleanup(m.Close)

	srv := httptest.NewServer(New(Options{Service: svc, Auth: f.auth, Clock: f.clock,
		Exports: m}))
	t.Cleanup(srv.Close)
	f.srv = srv
}

// waitExport polls an export's status until it is no longer running.
func waitExport(t *testing.T, f *fixture, path string, prepare func(*http.Request)) exportView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, body := f.do("GET", path, "", prepare)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
		}
		var v exportView
		must(t, json.Unmarshal(body, &v))
		if v.State != mediasign.ExportRunning {
			return v
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("export %s still runs after 30 s", path)
	return exportView{}
}

// TestExportThroughTheAPI starts an export as a project admin, follows its
// status, downloads it, lists and deletes it.
func TestExportThroughTheAPI(t *testing.T) {
	f := newFixture(t, auth.Options{})
	withExports(t, f)
	f.addUser("padmin", mediasign.RoleAdmin)
	admin := f.login("padmin", "password-1").apply

	resp, body := f.do("POST", "/api/v1/projects/p/exports", `{"datasets":["dp"],"format":"json"}`, admin)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start = %d %s, want 202", resp.StatusCode, body)
	}
	var started exportView
	must(t, json.Unmarshal(body, &started))
	loc := resp.Header.Get("Location")
	if started.State != mediasign.ExportRunning || started.Total != 1 || loc == "" {
		t.Fatalf("start answered %s with Location %q", body, loc)
	}

	done := waitExport(t, f, loc, admin)
	if done.State != mediasign.ExportDone || done.Written != 1 || done.MinExpiresAt == nil ||
		done.FileURL != loc+"/file" {
		t.Fatalf("finished export = %+v", done)
	}

	resp, body = f.do("GET", done.FileURL, "", admin)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="p-export-`) {
		t.Fatalf("download = %d %v", resp.StatusCode, resp.Header)
	}
	var doc struct {
		Header  export.Header  `json:"header"`
		Entries []export.Entry `json:"entries"`
	}
	must(t, json.Unmarshal(body, &doc))
	e := doc.Entries[0]
	if doc.Header.Count != 1 || e.Key != "p.jpg" || e.ThumbURL == "" ||
		e.ResolverURL != "http://mediasign.test/m/1" || e.Connection != "fake" {
		t.Fatalf("downloaded export = %s", body)
	}

	resp, _ = f.do("GET", done.FileURL, "", func(r *http.Request) {
		admin(r)
		r.Header.Set("Range", "bytes=0-9")
	})
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("ranged download = %d, want 206", resp.StatusCode)
	}

	resp, body = f.do("GET", "/api/v1/projects/p/exports", "", admin)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"state":"done"`) {
		t.Fatalf("list = %d %s", resp.StatusCode, body)
	}

	resp, body = f.do("DELETE", loc, "", admin)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete = %d %s", resp.StatusCode, body)
	}
	if resp, _ = f.do("GET", loc, "", admin); resp.StatusCode != 404 {
		t.Fatalf("status after delete = %d, want 404", resp.StatusCode)
	}
}

// TestExportsStayInTheirProject refuses to show an export through another
// project's path, even to an installation admin, and answers bad input
// with what to change.
func TestExportsStayInTheirProject(t *testing.T) {
	f := newFixture(t, auth.Options{})
	withExports(t, f)
	admin := bearer(f.admin)

	resp, body := f.do("POST", "/api/v1/projects/other/exports", `{"datasets":["dother"]}`, admin)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start = %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	waitExport(t, f, loc, admin)

	wrong := strings.Replace(loc, "/projects/other/", "/projects/p/", 1)
	for _, path := range []string{wrong, wrong + "/file"} {
		if resp, _ := f.do("GET", path, "", admin); resp.StatusCode != 404 {
			t.Errorf("GET %s = %d, want 404: the export belongs to another project", path, resp.StatusCode)
		}
	}

	for _, tc := range []struct{ body, want string }{
		{`{"datasets":["dp"],"format":"xml"}`, "jsonl"},
		{`{"datasets":[]}`, "at least one dataset"},
		{`{"datasets":["missing"]}`, `"missing"`},
	} {
		resp, body := f.do("POST", "/api/v1/projects/p/exports", tc.body, admin)
		if resp.StatusCode/100 != 4 || !strings.Contains(errorOf(t, resp, body).Message, tc.want) {
			t.Errorf("start with %s = %d %s, want a 4xx saying %s", tc.body, resp.StatusCode, body, tc.want)
		}
	}
}

// TestExportsNeedAManager answers 503 on a server built without exports.
func TestExportsNeedAManager(t *testing.T) {
	f := newFixture(t, auth.Options{})
	resp, body := f.do("GET", "/api/v1/projects/p/exports", "", bearer(f.admin))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("list without a manager = %d %s, want 503", resp.StatusCode, body)
	}
	errorOf(t, resp, body)
}
