package auth

import (
	"context"

	"github.com/mediasign/mediasign"
)

// connection returns the connection called name.
func (u *Users) connection(ctx context.Context, name string) (*mediasign.Connection, error) {
	c, err := u.store.ConnectionByName(ctx, name)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return nil, mediasign.NotFoundf("connection %q not found", name)
	}
	return c, err
}

// GrantConnection lets the admins of a project import from a connection.
// Granting it again changes nothing.
func (u *Users) GrantConnection(ctx context.Context, connection, project string) error {
	c, p, err := u.grantPair(ctx, connection, project)
	if err != nil {
		return err
	}
	if err := u.store.GrantConnection(ctx, c.ID, p.ID); err != nil {
		return err
	}
	u.logger.InfoContext(ctx, "connection granted", "connection", c.Name, "project_id", p.ID)
	return nil
}

// RevokeConnection takes back a project's grant of a connection. Media
// already imported stay; new imports from it are refused.
func (u *Users) RevokeConnection(ctx context.Context, connection, project string) error {
	c, p, err := u.grantPair(ctx, connection, project)
	if err != nil {
		return err
	}
	err = u.store.RevokeConnection(ctx, c.ID, p.ID)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return mediasign.NotFoundf("connection %q is not granted to project %q", c.Name, p.Name)
	}
	if err != nil {
		return err
	}
	u.logger.InfoContext(ctx, "connection grant revoked", "connection", c.Name, "project_id", p.ID)
	return nil
}

func (u *Users) grantPair(ctx context.Context, connection, project string) (*mediasign.Connection, *mediasign.Project, error) {
	c, err := u.connection(ctx, connection)
	if err != nil {
		return nil, nil, err
	}
	p, err := u.project(ctx, project)
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// ConnectionGrants returns the names of the projects a connection is
// granted to, in name order.
func (u *Users) ConnectionGrants(ctx context.Context, connectionID int64) ([]string, error) {
	ps, err := u.store.ListConnectionGrants(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names, nil
}

// RequireImportFrom refuses an import into project p from the connection
// called name unless the caller is an installation admin or the connection
// is granted to p. The caller's role in p is checked before. A connection
// that does not exist gets the same answer as one not granted, so project
// admins cannot probe the installation's connections.
func (a *Authenticator) RequireImportFrom(ctx context.Context, c mediasign.Caller, p *mediasign.Project, name string) error {
	if c.InstallAdmin {
		return nil
	}
	refused := forbidden("connection %q is not granted to project %q: ask an installation "+
		"admin to grant it ('mediasign connection grant --project %s %s')", name, p.Name,
		p.Name, name)

	conn, err := a.opts.Store.ConnectionByName(ctx, name)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return refused
	}
	if err != nil {
		return err
	}
	granted, err := a.opts.Store.ConnectionGranted(ctx, conn.ID, p.ID)
	if err != nil {
		return err
	}
	if !granted {
		return refused
	}
	return nil
}
