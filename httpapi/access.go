package httpapi

import (
	"context"
	"net/http"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/service"
)

// rule says who may call a route. Every route has one, checked before its
// handler runs, so nothing is read, signed or sent to a signer for a caller
// the rule refuses.
type rule struct {
	// public routes need no credentials.
	public bool

	// installAdmin routes are for installation admins only.
	installAdmin bool

	// usersOnly routes refuse API tokens.
	usersOnly bool

	// role is the least role needed in the project that project finds.
	role    mediasign.Role
	project func(s *Server, r *http.Request) (*mediasign.Project, error)

	// perItem routes check each item they touch themselves.
	perItem bool
}

var (
	publicRoute  = rule{public: true}
	signedIn     = rule{}
	installAdmin = rule{installAdmin: true}
	eachItem     = rule{perItem: true}
)

// inProject needs role min in the project of the request.
func inProject(min mediasign.Role, find func(s *Server, r *http.Request) (*mediasign.Project, error)) rule {
	return rule{role: min, project: find}
}

// managesProject is for people (not API tokens) who are admins of the
// project named in the path.
var managesProject = rule{usersOnly: true, role: mediasign.RoleAdmin, project: projectInPath}

// handlerFunc is a handler that returns its error for one place to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers an API route behind its rule.
func (s *Server) handle(pattern string, rl rule, h handlerFunc) {
	s.rules[pattern] = rl
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ctx, err := s.admit(r, rl)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r.WithContext(ctx)); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// public registers a route that needs no credentials.
func (s *Server) public(pattern string, h http.Handler) {
	s.rules[pattern] = publicRoute
	s.mux.Handle(pattern, h)
}

// admit authenticates the request, checks CSRF and the route's rule, and
// returns a context that carries the caller.
func (s *Server) admit(r *http.Request, rl rule) (context.Context, error) {
	if rl.public {
		return r.Context(), nil
	}
	c, err := s.auth.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if err := s.auth.CheckCSRF(r, c); err != nil {
		return nil, err
	}
	ctx := mediasign.WithCaller(r.Context(), c)

	if rl.installAdmin {
		if err := auth.RequireInstallAdmin(c); err != nil {
			return nil, err
		}
	}
	if rl.usersOnly {
		if err := auth.RequireUser(c); err != nil {
			return nil, err
		}
	}
	if rl.project != nil {
		p, err := rl.project(s, r.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		if err := s.auth.Require(ctx, c, p, rl.role); err != nil {
			return nil, err
		}
	}
	return ctx, nil
}

// caller returns the caller that admit put in the request's context.
func caller(r *http.Request) mediasign.Caller {
	c, _ := mediasign.CallerFrom(r.Context())
	return c
}

// projectInPath finds the project named by the {project} path value.
func projectInPath(s *Server, r *http.Request) (*mediasign.Project, error) {
	return s.project(r)
}

// projectOfDataset finds the project of the {id} dataset.
func projectOfDataset(s *Server, r *http.Request) (*mediasign.Project, error) {
	d, err := s.dataset(r)
	if err != nil {
		return nil, err
	}
	return s.svc.Store().Project(r.Context(), d.ProjectID)
}

// projectOfMedia finds the project of the {id} media file.
func projectOfMedia(s *Server, r *http.Request) (*mediasign.Project, error) {
	id, err := service.ParseID("media", r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.svc.Store().ProjectOfMedia(r.Context(), id)
}

// deniedMedia checks the caller's view right on each media file of a batch
// and returns, by position, the refusals. Ids that are 0 or do not exist
// are left for the service to answer.
func (s *Server) deniedMedia(ctx context.Context, ids []int64) (map[int]error, error) {
	refs, err := s.svc.Store().MediaBatch(ctx, ids)
	if err != nil {
		return nil, err
	}
	datasetOf := make(map[int64]int64, len(refs))
	for _, m := range refs {
		datasetOf[m.ID] = m.DatasetID
	}

	c, _ := mediasign.CallerFrom(ctx)
	allowed := make(map[int64]bool) // by dataset
	denied := make(map[int]error)
	for i, id := range ids {
		ds, ok := datasetOf[id]
		if !ok {
			continue
		}
		if _, known := allowed[ds]; !known {
			if allowed[ds], err = s.mayView(ctx, c, ds); err != nil {
				return nil, err
			}
		}
		if !allowed[ds] {
			denied[i] = &mediasign.Error{Code: mediasign.CodeForbidden,
				Message: "you may not view media of this project"}
		}
	}
	return denied, nil
}

// mayView reports whether c may view the media of a dataset.
func (s *Server) mayView(ctx context.Context, c mediasign.Caller, datasetID int64) (bool, error) {
	d, err := s.svc.Store().Dataset(ctx, datasetID)
	if err != nil {
		return false, err
	}
	role, err := s.auth.Role(ctx, c, d.ProjectID)
	return role.AtLeast(mediasign.RoleViewer), err
}
