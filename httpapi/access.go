package httpapi

import (
	"context"
	"errors"
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
	project *finder

	// perItem routes check each item they touch themselves.
	perItem bool

	// signerSecret routes are for custom URL signers, which send the
	// introspection secret instead of a user's credentials.
	signerSecret bool
}

var (
	publicRoute  = rule{public: true}
	signedIn     = rule{}
	installAdmin = rule{installAdmin: true}
	eachItem     = rule{perItem: true}
	signerSecret = rule{signerSecret: true}
)

// inProject needs role min in the project of the request.
func inProject(min mediasign.Role, f *finder) rule {
	return rule{role: min, project: f}
}

// managesProject is for people (not API tokens) who are admins of the
// project named in the path.
var managesProject = rule{usersOnly: true, role: mediasign.RoleAdmin, project: projectInPath}

// finder finds the project a request acts in, through the resource the
// path names.
type finder struct {
	// find returns the project, or missing's error when the resource does
	// not exist.
	find func(s *Server, r *http.Request) (*mediasign.Project, error)

	// missing is the answer for a resource that does not exist. Callers
	// who may not view the project get it too, so that an answer never
	// tells them whether a resource exists elsewhere.
	missing func(r *http.Request) error
}

// lookup returns the project of the request, answering a missing resource
// with f.missing.
func (f *finder) lookup(s *Server, r *http.Request) (*mediasign.Project, error) {
	p, err := f.find(s, r)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return nil, f.missing(r)
	}
	return p, err
}

// handlerFunc is a handler that returns its error for one place to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers an API route behind its rule.
func (s *Server) handle(pattern string, rl rule, h handlerFunc) {
	s.rules[pattern] = rl
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r, cancel := s.bounded(r, pattern)
		defer cancel()
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
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r, cancel := s.bounded(r, pattern)
		defer cancel()
		h.ServeHTTP(w, r)
	})
}

// admit authenticates the request, checks CSRF and the route's rule, and
// returns a context that carries the caller.
func (s *Server) admit(r *http.Request, rl rule) (context.Context, error) {
	if rl.public {
		return r.Context(), nil
	}
	if rl.signerSecret {
		return r.Context(), s.checkSignerSecret(r)
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
		p, err := rl.project.lookup(s, r.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		err = s.auth.Require(ctx, c, p, rl.role)
		if errors.Is(err, auth.ErrNoRole) {
			return nil, rl.project.missing(r)
		}
		if err != nil {
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
var projectInPath = &finder{
	find: func(s *Server, r *http.Request) (*mediasign.Project, error) { return s.project(r) },
	missing: func(r *http.Request) error {
		return mediasign.NotFoundf("project %q not found", r.PathValue("project"))
	},
}

// projectOfDataset finds the project of the {id} dataset.
var projectOfDataset = &finder{
	find: func(s *Server, r *http.Request) (*mediasign.Project, error) {
		d, err := s.dataset(r)
		if err != nil {
			return nil, err
		}
		return s.svc.Store().Project(r.Context(), d.ProjectID)
	},
	missing: func(r *http.Request) error { return missingID("dataset", r) },
}

// projectOfMedia finds the project of the {id} media file.
var projectOfMedia = &finder{
	find: func(s *Server, r *http.Request) (*mediasign.Project, error) {
		id, err := service.ParseID("media", r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return s.svc.Store().ProjectOfMedia(r.Context(), id)
	},
	missing: func(r *http.Request) error { return missingID("media", r) },
}

// missingID answers for the {id} of what that does not exist, or that the
// caller may not know of.
func missingID(what string, r *http.Request) error {
	id, err := service.ParseID(what, r.PathValue("id"))
	if err != nil {
		return err
	}
	return mediasign.NotFoundf("%s %d not found", what, id)
}

// missingMedia answers for a media file of a batch that does not exist, or
// that the caller may not view.
func missingMedia(id int64) error { return mediasign.NotFoundf("media %d not found", id) }

// deniedMedia checks the caller's view right on each media file of a batch
// and returns, by position, the refusals: one answer, not found, both for
// media that do not exist and for media of projects the caller may not
// view. Ids that are 0 (malformed) are left out.
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
		if id == 0 {
			continue
		}
		ds, ok := datasetOf[id]
		if !ok {
			denied[i] = missingMedia(id)
			continue
		}
		if _, known := allowed[ds]; !known {
			if allowed[ds], err = s.mayView(ctx, c, ds); err != nil {
				return nil, err
			}
		}
		if !allowed[ds] {
			denied[i] = missingMedia(id)
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
