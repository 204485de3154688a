package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/service"
)

// exportRoutes registers the export routes. Exports are for admins of the
// project, people or API tokens: a file hands out every URL of its
// datasets for days.
func (s *Server) exportRoutes() {
	admin := inProject(mediasign.RoleAdmin, projectInPath)
	s.handle("POST /api/v1/projects/{project}/exports", admin, s.startExport)
	s.handle("GET /api/v1/projects/{project}/exports", admin, s.listExports)
	s.handle("GET /api/v1/projects/{project}/exports/{id}", admin, s.getExport)
	s.handle("GET /api/v1/projects/{project}/exports/{id}/file", admin, s.downloadExport)
	s.handle("DELETE /api/v1/projects/{project}/exports/{id}", admin, s.deleteExport)
}

type exportInput struct {
	Datasets []string `json:"datasets"`
	Format   string   `json:"format"`
}

// exportView is the JSON form of an export job.
type exportView struct {
	ID           int64                  `json:"id"`
	Project      string                 `json:"project"`
	DatasetIDs   []int64                `json:"dataset_ids"`
	Format       mediasign.ExportFormat `json:"format"`
	State        mediasign.ExportState  `json:"state"`
	Total        int64                  `json:"total"`
	Written      int64                  `json:"written"`
	Resigned     int64                  `json:"resigned"`
	MinExpiresAt *time.Time             `json:"min_expires_at,omitempty"`
	Size         int64                  `json:"size,omitempty"`
	Error        string                 `json:"error,omitempty"`
	CreatedAt    time.Time              `json:"created_at"`
	FinishedAt   *time.Time             `json:"finished_at,omitempty"`

	// FileURL is where a done export is downloaded.
	FileURL string `json:"file_url,omitempty"`
}

func viewOf(p *mediasign.Project, e *mediasign.Export) exportView {
	v := exportView{ID: e.ID, Project: p.Name, DatasetIDs: e.DatasetIDs, Format: e.Format,
		State: e.State, Total: e.Total, Written: e.Written, Resigned: e.Resigned, Size: e.Size,
		Error: e.Error, CreatedAt: e.CreatedAt.UTC()}
	if !e.MinExpiresAt.IsZero() {
		v.MinExpiresAt = utc(e.MinExpiresAt)
	}
	if !e.FinishedAt.IsZero() {
		v.FinishedAt = utc(e.FinishedAt)
	}
	if e.State == mediasign.ExportDone {
		v.FileURL = exportPath(p, e.ID) + "/file"
	}
	return v
}

func exportPath(p *mediasign.Project, id int64) string {
	return fmt.Sprintf("/api/v1/projects/%s/exports/%d", p.Name, id)
}

// exportManager returns the export manager, or why there is none.
func (s *Server) exportManager() (*export.Manager, error) {
	if s.exports == nil {
		return nil, mediasign.Unavailable("exports are not enabled on this server", nil)
	}
	return s.exports, nil
}

func (s *Server) startExport(w http.ResponseWriter, r *http.Request) error {
	m, err := s.exportManager()
	if err != nil {
		return err
	}
	p, err := s.project(r)
	if err != nil {
		return err
	}
	var in exportInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	req := export.StartRequest{Project: p, Datasets: in.Datasets}
	if in.Format != "" {
		if req.Format, err = export.ParseFormat(in.Format); err != nil {
			return err
		}
	}

	e, err := m.Start(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", exportPath(p, e.ID))
	writeJSON(w, http.StatusAccepted, viewOf(p, e))
	return nil
}

func (s *Server) listExports(w http.ResponseWriter, r *http.Request) error {
	m, err := s.exportManager()
	if err != nil {
		return err
	}
	p, err := s.project(r)
	if err != nil {
		return err
	}
	es, err := m.List(r.Context(), p.ID)
	if err != nil {
		return err
	}
	views := make([]exportView, len(es))
	for i, e := range es {
		views[i] = viewOf(p, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"exports": views})
	return nil
}

// exportOf returns the manager, the project in the path and the id of the
// export asked for.
func (s *Server) exportOf(r *http.Request) (*export.Manager, *mediasign.Project, int64, error) {
	m, err := s.exportManager()
	if err != nil {
		return nil, nil, 0, err
	}
	p, err := s.project(r)
	if err != nil {
		return nil, nil, 0, err
	}
	id, err := service.ParseID("export", r.PathValue("id"))
	return m, p, id, err
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) error {
	m, p, id, err := s.exportOf(r)
	if err != nil {
		return err
	}
	e, err := m.Get(r.Context(), p.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(p, e))
	return nil
}

// downloadExport serves a done export's file, with Range support, or
// redirects to a short-lived signed URL of the bucket that keeps it. The
// file holds signed URLs: no cache may keep it or the redirect.
func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request) error {
	m, p, id, err := s.exportOf(r)
	if err != nil {
		return err
	}
	name := func(e *mediasign.Export) string {
		return fmt.Sprintf("%s-export-%d%s", p.Name, e.ID, export.Extension(e.Format))
	}
	d, err := m.Open(r.Context(), p.ID, id, name)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	if d.File == nil {
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, d.URL, http.StatusFound)
		return nil
	}
	defer d.File.Close()

	w.Header().Set("Content-Type", export.ContentType(d.Export.Format))
	w.Header().Set("Content-Disposition", `attachment; filename="`+name(d.Export)+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name(d.Export), d.Export.FinishedAt, d.File)
	return nil
}

func (s *Server) deleteExport(w http.ResponseWriter, r *http.Request) error {
	m, p, id, err := s.exportOf(r)
	if err != nil {
		return err
	}
	if err := m.Delete(r.Context(), p.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
