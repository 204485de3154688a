package auth

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/mediasign/mediasign"
)

// FirstAdminName is the user that the first start in session mode creates.
const FirstAdminName = "admin"

// Users manages users, project memberships and API tokens, for the API and
// the command line alike.
type Users struct {
	store  mediasign.Store
	hasher *hasher
	signIn mediasign.SignIn
	clock  mediasign.Clock
	logger *slog.Logger
}

// UsersOptions configures Users.
type UsersOptions struct {
	Passwords PasswordParams

	// SignIn is how users of the installation sign in: the last
	// installation admin who can sign in this way is never removed.
	// Empty means with a password.
	SignIn mediasign.SignIn

	Clock  mediasign.Clock
	Logger *slog.Logger
}

// NewUsers returns a Users over st.
func NewUsers(st mediasign.Store, opts UsersOptions) *Users {
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SignIn == "" {
		opts.SignIn = mediasign.SignInPassword
	}
	return &Users{store: st, hasher: newHasher(opts.Passwords), signIn: opts.SignIn,
		clock: opts.Clock, logger: opts.Logger}
}

// NewUser describes a user to add.
type NewUser struct {
	Name string

	// Password is required unless Subject is set.
	Password string

	// Subject links the user to an OAuth2 subject, for installations in
	// OAuth2 mode; such users have no password.
	Subject string

	InstallAdmin bool
}

// Add creates a user.
func (u *Users) Add(ctx context.Context, in NewUser) (*mediasign.User, error) {
	name, key, err := NormalizeName(in.Name)
	if err != nil {
		return nil, err
	}
	user := &mediasign.User{Name: name, NameKey: key, Subject: in.Subject,
		InstallAdmin: in.InstallAdmin}

	if in.Subject == "" || in.Password != "" {
		password, err := CheckPassword(in.Password)
		if err != nil {
			return nil, err
		}
		if user.PasswordHash, err = u.hasher.hash(ctx, password); err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
	}
	if err := u.store.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	u.logger.InfoContext(ctx, "user added", "user_id", user.ID,
		"installation_admin", user.InstallAdmin)
	return user, nil
}

// ByName returns the user called name, in any case or width.
func (u *Users) ByName(ctx context.Context, name string) (*mediasign.User, error) {
	_, key, err := NormalizeName(name)
	if err != nil {
		return nil, err
	}
	user, err := u.store.UserByName(ctx, key)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return nil, mediasign.NotFoundf("user %q not found", name)
	}
	return user, err
}

// List returns every user in name order.
func (u *Users) List(ctx context.Context) ([]*mediasign.User, error) {
	return u.store.ListUsers(ctx)
}

// Remove deletes a user, ends their sessions and revokes the API tokens
// they made. The last installation admin who can sign in cannot be
// removed.
func (u *Users) Remove(ctx context.Context, name string) error {
	user, err := u.ByName(ctx, name)
	if err != nil {
		return err
	}
	if err := u.store.DeleteUser(ctx, user.ID, u.signIn); err != nil {
		return err
	}
	u.logger.InfoContext(ctx, "user removed", "user_id", user.ID)
	return nil
}

// SetPassword gives a user a new password and ends all their sessions.
func (u *Users) SetPassword(ctx context.Context, name, password string) error {
	user, err := u.ByName(ctx, name)
	if err != nil {
		return err
	}
	return u.setPassword(ctx, user, password)
}

func (u *Users) setPassword(ctx context.Context, user *mediasign.User, password string) error {
	p, err := CheckPassword(password)
	if err != nil {
		return err
	}
	hash, err := u.hasher.hash(ctx, p)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := u.store.SetPassword(ctx, user.ID, hash); err != nil {
		return err
	}
	u.logger.InfoContext(ctx, "password changed", "user_id", user.ID)
	return nil
}

// CheckCurrentPassword reports whether password is the user's password.
func (u *Users) CheckCurrentPassword(ctx context.Context, user *mediasign.User, password string) error {
	p, err := normalizePassword(password)
	if err != nil {
		return err
	}
	ok, err := u.hasher.verify(ctx, user.PasswordHash, p)
	if err != nil {
		return err
	}
	if !ok {
		return &mediasign.Error{Code: mediasign.CodeForbidden,
			Message: "the current password is not right"}
	}
	return nil
}

// SetInstallAdmin grants or takes the installation admin flag and returns
// the user as stored. The flag is not taken from the last installation
// admin who can sign in; taking it revokes the API tokens the user made
// above their role in each project.
func (u *Users) SetInstallAdmin(ctx context.Context, name string, admin bool) (*mediasign.User, error) {
	user, err := u.ByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := u.store.SetInstallAdmin(ctx, user.ID, admin, u.signIn); err != nil {
		return nil, err
	}
	u.logger.InfoContext(ctx, "installation admin set", "user_id", user.ID,
		"installation_admin", admin)
	return u.store.User(ctx, user.ID)
}

// EnsureFirstAdmin creates the user "admin", an installation admin with a
// random password, when there is no user at all, and returns the password
// to show once. It returns "" when users exist.
func (u *Users) EnsureFirstAdmin(ctx context.Context) (string, error) {
	n, err := u.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}

	password := GeneratePassword()
	_, err = u.Add(ctx, NewUser{Name: FirstAdminName, Password: password, InstallAdmin: true})
	if mediasign.ErrorCode(err) == mediasign.CodeConflict {
		// Another replica made it first and showed its password.
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("create first admin: %w", err)
	}
	return password, nil
}

// project returns the project called name.
func (u *Users) project(ctx context.Context, name string) (*mediasign.Project, error) {
	p, err := u.store.ProjectByName(ctx, name)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return nil, mediasign.NotFoundf("project %q not found: check the name, or create it "+
			"with POST /api/v1/projects or mediasign import --project", name)
	}
	return p, err
}

// SetMember gives a user a role in a project, adding them when needed, and
// returns the membership as stored. A lower role revokes the API tokens the
// user made in the project above it.
func (u *Users) SetMember(ctx context.Context, projectName, userName string, role mediasign.Role) (*mediasign.Membership, error) {
	if !role.Valid() {
		return nil, mediasign.Invalidf("role %q is not known: use viewer, editor or admin", role)
	}
	p, err := u.project(ctx, projectName)
	if err != nil {
		return nil, err
	}
	user, err := u.ByName(ctx, userName)
	if err != nil {
		return nil, err
	}

	m := &mediasign.Membership{ProjectID: p.ID, ProjectName: p.Name, UserID: user.ID,
		UserName: user.Name, Role: role, Source: mediasign.SourceManual}
	if err := u.store.SetMembership(ctx, m); err != nil {
		return nil, err
	}
	u.logger.InfoContext(ctx, "member set", "project_id", p.ID, "user_id", user.ID, "role", role)
	return u.store.Membership(ctx, p.ID, user.ID)
}

// RemoveMember takes a user out of a project and revokes the API tokens
// they made there, unless they are an installation admin.
func (u *Users) RemoveMember(ctx context.Context, projectName, userName string) error {
	p, err := u.project(ctx, projectName)
	if err != nil {
		return err
	}
	user, err := u.ByName(ctx, userName)
	if err != nil {
		return err
	}
	err = u.store.DeleteMembership(ctx, p.ID, user.ID)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return mediasign.NotFoundf("user %q is not a member of project %q", user.Name, p.Name)
	}
	return err
}

// Members returns the members of a project.
func (u *Users) Members(ctx context.Context, projectName string) ([]*mediasign.Membership, error) {
	p, err := u.project(ctx, projectName)
	if err != nil {
		return nil, err
	}
	return u.store.ListMembers(ctx, p.ID)
}

// tokenName is what API token names look like.
var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewAPIToken describes an API token to create.
type NewAPIToken struct {
	ProjectID int64
	Name      string
	Role      mediasign.Role

	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time

	// CreatedBy is the user who asked for it, if any.
	CreatedBy int64
}

// CreateAPIToken makes a token for one project and role and returns it with
// its secret, which is shown once and never stored.
func (u *Users) CreateAPIToken(ctx context.Context, in NewAPIToken) (*mediasign.APIToken, string, error) {
	switch {
	case !tokenName.MatchString(in.Name):
		return nil, "", mediasign.Invalidf("API token name %q is not valid: use 1 to 64 "+
			"letters, digits, '.', '_' or '-', starting with a letter or digit", in.Name)
	case !in.Role.Valid():
		return nil, "", mediasign.Invalidf("role %q is not known: use viewer, editor or admin",
			in.Role)
	case !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(u.clock.Now()):
		return nil, "", mediasign.Invalidf("expires_at %s is not in the future",
			in.ExpiresAt.UTC().Format(time.RFC3339))
	}

	secret, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	raw := APITokenPrefix + secret
	t := &mediasign.APIToken{ProjectID: in.ProjectID, Name: in.Name, Role: in.Role,
		Prefix: raw[:apiTokenShown], Hash: hashSecret(secret), CreatedBy: in.CreatedBy,
		ExpiresAt: in.ExpiresAt}
	if err := u.store.CreateAPIToken(ctx, t); err != nil {
		return nil, "", err
	}
	u.logger.InfoContext(ctx, "api token created", "project_id", t.ProjectID, "token_id", t.ID,
		"role", t.Role)
	return t, raw, nil
}

// APITokens lists the tokens of a project, without their secrets.
func (u *Users) APITokens(ctx context.Context, projectID int64) ([]*mediasign.APIToken, error) {
	return u.store.ListAPITokens(ctx, projectID)
}

// RevokeAPIToken deletes a token of a project; it stops working at once.
func (u *Users) RevokeAPIToken(ctx context.Context, projectID, id int64) error {
	if err := u.store.DeleteAPIToken(ctx, projectID, id); err != nil {
		return err
	}
	u.logger.InfoContext(ctx, "api token revoked", "project_id", projectID, "token_id", id)
	return nil
}
