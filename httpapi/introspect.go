package httpapi

import (
	"net/http"
	"strings"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// signerRoutes registers what custom URL signers call.
func (s *Server) signerRoutes() {
	s.handle("POST /api/v1/signer/introspect", signerSecret, s.introspectSession)
}

// introspectInput names the session a signer received as a cookie.
type introspectInput struct {
	SessionID string `json:"session_id"`
}

// introspectAnswer says whose session an ID is. Groups are "project:role"
// for each role the user holds, with the roles below it, so a policy can
// name "vision:viewer" and cover editors and admins too.
type introspectAnswer struct {
	Active            bool            `json:"active"`
	User              *introspectUser `json:"user,omitempty"`
	InstallationAdmin bool            `json:"installation_admin,omitempty"`
	Groups            []string        `json:"groups,omitempty"`
}

type introspectUser struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// introspectSession tells a custom URL signer, which holds the shared
// introspection secret, who the session ID it was sent belongs to. Unknown,
// ended and malformed IDs are {"active": false}.
func (s *Server) introspectSession(w http.ResponseWriter, r *http.Request) error {
	var in introspectInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if s.auth.Mode() != auth.ModeSession {
		return mediasign.Invalidf("this installation signs in through OAuth2 and has no " +
			"sessions: the signer should check the forwarded JWT instead")
	}

	c, err := s.auth.Authenticate(sessionRequest(r, in.SessionID))
	if mediasign.ErrorCode(err) == mediasign.CodeUnauthorized {
		writeJSON(w, http.StatusOK, introspectAnswer{})
		return nil
	}
	if err != nil {
		return err
	}

	ms, err := s.svc.Store().ListUserMemberships(r.Context(), c.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, introspectAnswer{Active: true,
		User:              &introspectUser{ID: c.UserID, Name: c.UserName},
		InstallationAdmin: c.InstallAdmin, Groups: groupsOf(ms)})
	return nil
}

// sessionRequest is a request that carries only a session cookie, for the
// authenticator to judge.
func sessionRequest(r *http.Request, id string) *http.Request {
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: id})
	return req
}

// groupsOf returns "project:role" for every role each membership holds or
// implies.
func groupsOf(ms []*mediasign.Membership) []string {
	out := []string{}
	for _, m := range ms {
		for _, role := range []mediasign.Role{mediasign.RoleViewer, mediasign.RoleEditor,
			mediasign.RoleAdmin} {
			if m.Role.AtLeast(role) {
				out = append(out, m.ProjectName+":"+string(role))
			}
		}
	}
	return out
}

// checkSignerSecret admits a request that carries the introspection
// secret as a bearer token. Without credentials the answer is 401; with
// any other credential, 403.
func (s *Server) checkSignerSecret(r *http.Request) error {
	header := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(header, " ")
	if header == "" {
		if r.Header.Get("Cookie") != "" {
			return errNotSigner
		}
		return &mediasign.Error{Code: mediasign.CodeUnauthorized, Message: "this endpoint is " +
			"for custom URL signers: send 'Authorization: Bearer <introspection secret>'"}
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return errNotSigner
	}

	enabled, ok, err := s.svc.CheckSignerSecret(r.Context(), strings.TrimSpace(token))
	switch {
	case err != nil:
		return err
	case !enabled:
		return &mediasign.Error{Code: mediasign.CodeForbidden, Message: "session introspection " +
			"is off: run 'mediasign signer secret' and give the secret to the signer"}
	case !ok:
		return errNotSigner
	}
	return nil
}

var errNotSigner = &mediasign.Error{Code: mediasign.CodeForbidden, Message: "this endpoint is " +
	"only for custom URL signers, with the introspection secret"}
