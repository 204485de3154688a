package httpapi

import (
	"net/http"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// identityRoutes registers sign-in, users, members and API tokens.
func (s *Server) identityRoutes() {
	s.handle("GET /api/v1/users", installAdmin, s.listUsers)
	s.handle("POST /api/v1/users", installAdmin, s.addUser)
	s.handle("PUT /api/v1/users/{name}", installAdmin, s.updateUser)
	s.handle("DELETE /api/v1/users/{name}", installAdmin, s.removeUser)
	s.handle("PUT /api/v1/users/{name}/password", signedIn, s.setPassword)

	s.handle("GET /api/v1/projects/{project}/members", managesProject, s.listMembers)
	s.handle("PUT /api/v1/projects/{project}/members/{user}", managesProject, s.setMember)
	s.handle("DELETE /api/v1/projects/{project}/members/{user}", managesProject, s.removeMember)

	s.handle("GET /api/v1/projects/{project}/tokens", managesProject, s.listTokens)
	s.handle("POST /api/v1/projects/{project}/tokens", managesProject, s.createToken)
	s.handle("DELETE /api/v1/projects/{project}/tokens/{id}", managesProject, s.revokeToken)
}

// authInfo tells the web page how to sign in.
func (s *Server) authInfo(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"mode": string(s.auth.Mode())})
	return nil
}

type loginInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.auth.Login(w, r, in.Username, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": res.User, "csrf_token": res.CSRFToken,
		"expires_at": res.ExpiresAt.UTC()})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.Logout(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// me tells callers who they are, what they may do and, for sessions, the
// CSRF token their page sends.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	c := caller(r)
	body := map[string]any{"method": c.Method, "installation_admin": c.InstallAdmin}
	if c.Method == mediasign.AuthAPIToken {
		p, err := s.svc.Store().Project(r.Context(), c.TokenProjectID)
		if err != nil {
			return err
		}
		body["projects"] = []map[string]any{{"project": p.Name, "role": c.TokenRole}}
		writeJSON(w, http.StatusOK, body)
		return nil
	}

	if c.UserID != 0 {
		ms, err := s.svc.Store().ListUserMemberships(r.Context(), c.UserID)
		if err != nil {
			return err
		}
		body["user"] = map[string]any{"id": c.UserID, "name": c.UserName}
		body["projects"] = nonNil(ms)
	}
	if token := s.auth.CSRFToken(c); token != "" {
		body["csrf_token"] = token
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// userView is a user as the API shows it.
type userView struct {
	*mediasign.User
	OAuth2 bool `json:"oauth2"`
}

func viewUser(u *mediasign.User) userView { return userView{User: u, OAuth2: u.Subject != ""} }

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.auth.Users().List(r.Context())
	if err != nil {
		return err
	}
	out := make([]userView, len(users))
	for i, u := range users {
		out[i] = viewUser(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

type userInput struct {
	Name              string `json:"name"`
	Password          string `json:"password"`
	InstallationAdmin bool   `json:"installation_admin"`
	OAuth2Subject     string `json:"oauth2_subject"`
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.auth.Users().Add(r.Context(), auth.NewUser{Name: in.Name, Password: in.Password,
		Subject: in.OAuth2Subject, InstallAdmin: in.InstallationAdmin})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewUser(u))
	return nil
}

// userUpdate is what PUT /api/v1/users/{name} may change.
type userUpdate struct {
	InstallationAdmin *bool `json:"installation_admin"`
}

// updateUser grants or takes the installation admin flag. The last
// installation admin who can sign in keeps it.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in userUpdate
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.InstallationAdmin == nil {
		return mediasign.Invalidf(`send {"installation_admin": true} or false`)
	}
	u, err := s.auth.Users().SetInstallAdmin(r.Context(), r.PathValue("name"), *in.InstallationAdmin)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewUser(u))
	return nil
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.Users().Remove(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordInput struct {
	Password        string `json:"password"`
	CurrentPassword string `json:"current_password"`
}

// setPassword lets users change their own password, with their current
// one, and installation admins set the password of anyone else. Every
// session of the user ends.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c := caller(r)
	users := s.auth.Users()
	u, err := users.ByName(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}

	// An installation admin, too, gives their own current password, so a
	// stolen session cannot take over the account for good.
	self := c.UserID != 0 && c.UserID == u.ID
	switch {
	case !self && !c.InstallAdmin:
		return &mediasign.Error{Code: mediasign.CodeForbidden,
			Message: "you may change only your own password"}
	case self:
		if err := s.auth.CheckCurrentPassword(r, u, in.CurrentPassword); err != nil {
			return err
		}
	}
	if err := users.SetPassword(r.Context(), u.Name, in.Password); err != nil {
		return err
	}
	if self && c.Method == mediasign.AuthSession {
		s.auth.ClearCookie(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tokenView is an API token as the API shows it; Token is set only in the
// answer that creates it.
type tokenView struct {
	*mediasign.APIToken
	Project string `json:"project"`
	Token   string `json:"token,omitempty"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r)
	if err != nil {
		return err
	}
	ts, err := s.auth.Users().APITokens(r.Context(), p.ID)
	if err != nil {
		return err
	}
	out := make([]tokenView, len(ts))
	for i, t := range ts {
		out[i] = tokenView{APIToken: t, Project: p.Name}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

type tokenInput struct {
	Name      string         `json:"name"`
	Role      mediasign.Role `json:"role"`
	ExpiresAt *time.Time     `json:"expires_at"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r)
	if err != nil {
		return err
	}
	var in tokenInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	req := auth.NewAPIToken{ProjectID: p.ID, Name: in.Name, Role: in.Role,
		CreatedBy: caller(r).UserID}
	if in.ExpiresAt != nil {
		req.ExpiresAt = *in.ExpiresAt
	}

	t, secret, err := s.auth.Users().CreateAPIToken(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenView{APIToken: t, Project: p.Name, Token: secret})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r)
	if err != nil {
		return err
	}
	id, err := parseTokenID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.auth.Users().RevokeAPIToken(r.Context(), p.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
