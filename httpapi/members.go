package httpapi

import (
	"net/http"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/service"
)

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.auth.Users().Members(r.Context(), r.PathValue("project"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": nonNil(ms)})
	return nil
}

type memberInput struct {
	Role string `json:"role"`
}

func (s *Server) setMember(w http.ResponseWriter, r *http.Request) error {
	var in memberInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	role, err := mediasign.ParseRole(in.Role)
	if err != nil {
		return err
	}
	m, err := s.auth.Users().SetMember(r.Context(), r.PathValue("project"), r.PathValue("user"), role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	err := s.auth.Users().RemoveMember(r.Context(), r.PathValue("project"), r.PathValue("user"))
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func parseTokenID(s string) (int64, error) { return service.ParseID("API token", s) }
