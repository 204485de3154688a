package auth

import (
	"context"
	"errors"

	"github.com/mediasign/mediasign"
)

// Role returns the role of a caller in a project, or "" when they have
// none. Installation admins are admins of every project; an API token has
// its role in its one project.
func (a *Authenticator) Role(ctx context.Context, c mediasign.Caller, projectID int64) (mediasign.Role, error) {
	switch {
	case c.InstallAdmin:
		return mediasign.RoleAdmin, nil
	case c.Method == mediasign.AuthAPIToken:
		if c.TokenProjectID == projectID {
			return c.TokenRole, nil
		}
		return "", nil
	case c.UserID == 0:
		return "", nil
	}

	m, err := a.opts.Store.Membership(ctx, projectID, c.UserID)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return m.Role, nil
}

// ErrNoRole is the cause of Require's refusal of a caller with no role in
// the project, whom the API answers as if the project's resource did not
// exist.
var ErrNoRole = errors.New("the caller has no role in the project")

// Require refuses a caller whose role in project p is weaker than min. A
// non-member is not told the project's name, and the refusal wraps
// ErrNoRole.
func (a *Authenticator) Require(ctx context.Context, c mediasign.Caller, p *mediasign.Project, min mediasign.Role) error {
	role, err := a.Role(ctx, c, p.ID)
	if err != nil {
		return err
	}
	if role == "" {
		return &mediasign.Error{Code: mediasign.CodeForbidden, Err: ErrNoRole,
			Message: "you are not a member of this project: ask one of its admins to add you"}
	}
	if !role.AtLeast(min) {
		return forbidden("this needs the %s role in project %q; you are %s", min, p.Name, role)
	}
	return nil
}

// RequireInstallAdmin refuses callers who are not installation admins.
func RequireInstallAdmin(c mediasign.Caller) error {
	if !c.InstallAdmin {
		return forbidden("this needs an installation admin")
	}
	return nil
}

// RequireUser refuses API tokens, for actions that only people may take,
// such as managing members and tokens.
func RequireUser(c mediasign.Caller) error {
	if c.Method == mediasign.AuthAPIToken {
		return forbidden("API tokens cannot manage members or tokens: sign in as a user")
	}
	return nil
}
