package httpapi

import (
	"net/http"
	"strconv"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/service"
)

// maxPage bounds one page of a media listing.
const maxPage = 1000

type nameInput struct {
	Name string `json:"name"`
}

// listProjects lists the projects the caller has a role in.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	all, err := s.svc.Store().ListProjects(r.Context())
	if err != nil {
		return err
	}
	var ps []*mediasign.Project
	for _, p := range all {
		role, err := s.auth.Role(r.Context(), caller(r), p.ID)
		if err != nil {
			return err
		}
		if role != "" {
			ps = append(ps, p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": nonNil(ps)})
	return nil
}

func (s *Server) addProject(w http.ResponseWriter, r *http.Request) error {
	var in nameInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.svc.AddProject(r.Context(), in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) project(r *http.Request) (*mediasign.Project, error) {
	return s.svc.Store().ProjectByName(r.Context(), r.PathValue("project"))
}

func (s *Server) listDatasets(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r)
	if err != nil {
		return err
	}
	ds, err := s.svc.Store().ListDatasets(r.Context(), p.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"datasets": nonNil(ds)})
	return nil
}

func (s *Server) addDataset(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r)
	if err != nil {
		return err
	}
	var in nameInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	d, err := s.svc.AddDataset(r.Context(), p.ID, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) dataset(r *http.Request) (*mediasign.Dataset, error) {
	id, err := service.ParseID("dataset", r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.svc.Store().Dataset(r.Context(), id)
}

func (s *Server) getDataset(w http.ResponseWriter, r *http.Request) error {
	d, err := s.dataset(r)
	if err != nil {
		return err
	}
	n, err := s.svc.Store().CountMedia(r.Context(), d.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"dataset": d, "media_count": n})
	return nil
}

// listMedia pages through a dataset by id: ?after=ID&limit=N.
func (s *Server) listMedia(w http.ResponseWriter, r *http.Request) error {
	d, err := s.dataset(r)
	if err != nil {
		return err
	}
	after, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	files, err := s.svc.Store().ListMedia(r.Context(), d.ID, after, limit)
	if err != nil {
		return err
	}

	body := map[string]any{"media": nonNil(files)}
	if len(files) == limit {
		body["next_after"] = files[len(files)-1].ID
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func pageParams(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	limit = 100
	if v := q.Get("after"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			return 0, 0, mediasign.Invalidf("after=%q is not valid: give a media id", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > maxPage {
			return 0, 0, mediasign.Invalidf("limit=%q is not valid: give 1 to %d", v, maxPage)
		}
	}
	return after, limit, nil
}

type importInput struct {
	Connection  string `json:"connection"`
	Bucket      string `json:"bucket"`
	Prefix      string `json:"prefix"`
	ThumbPrefix string `json:"thumb_prefix"`
	AllFiles    bool   `json:"all_files"`
}

func (s *Server) importMedia(w http.ResponseWriter, r *http.Request) error {
	d, err := s.dataset(r)
	if err != nil {
		return err
	}
	var in importInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Connection == "" {
		return mediasign.Invalidf(`"connection" is required: name the connection to import from`)
	}
	p, err := s.svc.Store().Project(r.Context(), d.ProjectID)
	if err != nil {
		return err
	}
	if err := s.auth.RequireImportFrom(r.Context(), caller(r), p, in.Connection); err != nil {
		return err
	}
	res, err := s.svc.Import(r.Context(), service.ImportRequest{DatasetID: d.ID,
		Connection: in.Connection, Bucket: in.Bucket, Prefix: in.Prefix,
		ThumbPrefix: in.ThumbPrefix, AllFiles: in.AllFiles})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
