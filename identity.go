package mediasign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Role is what a member may do in a project. Roles are ordered: each one
// may do everything the ones below it may.
type Role string

// Roles of project members, weakest first.
const (
	// RoleViewer may get view URLs of the project's media.
	RoleViewer Role = "viewer"

	// RoleEditor may also get upload URLs.
	RoleEditor Role = "editor"

	// RoleAdmin may also manage the project's members, API tokens, datasets,
	// imports and exports.
	RoleAdmin Role = "admin"
)

// CodeRateLimited marks a refusal because too many requests came too fast.
const CodeRateLimited Code = "rate_limited"

// rank orders the roles; an unknown role ranks below every known one.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r is a known role that may do what min may.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", Invalidf("role %q is not known: use viewer, editor or admin", s)
	}
	return r, nil
}

// User is a person or account that may sign in. A user created from an
// OAuth2 token carries the token's subject and has no password.
type User struct {
	ID int64 `json:"id"`

	// Name is shown to people and used to sign in; NameKey is its
	// normalized form, unique among users.
	Name    string `json:"name"`
	NameKey string `json:"-"`

	// PasswordHash is an encoded argon2id hash, empty for users without a
	// password.
	PasswordHash string `json:"-"`

	// Subject is the OAuth2 subject the user was created from, if any.
	Subject string `json:"-"`

	// InstallAdmin lets the user manage connections, projects and users of
	// the whole installation.
	InstallAdmin bool `json:"installation_admin"`

	// RolesTokenTime is the issue time (or, lacking one, the expiry) of the
	// newest OAuth2 token whose role claim set the user's claim
	// memberships; zero when none did. Older tokens set no roles.
	RolesTokenTime time.Time `json:"-"`

	CreatedAt time.Time `json:"created_at"`
}

// AccountTag returns a short hash of what makes u one account (its id,
// creation time in whole seconds, as stores keep it, name, OAuth2 subject
// and password hash, whose salt is random), so that state kept per user, such as cached URLs, never passes to
// a later account that reuses the id, even one made in the same second under
// the same name. A new password gives a new tag too.
func AccountTag(u *User) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%d\x00%s\x00%s\x00%s", u.ID, u.CreatedAt.Unix(), u.Name,
		u.Subject, u.PasswordHash)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// SignIn says how the users of an installation sign in, so that the last
// installation admin who can sign in is never removed.
type SignIn string

// Ways users sign in.
const (
	// SignInPassword: users with a password hash can sign in.
	SignInPassword SignIn = "password"

	// SignInOAuth2: users with an OAuth2 subject can sign in.
	SignInOAuth2 SignIn = "oauth2"
)

// CanSignIn reports whether u can sign in when users sign in by way.
func (u *User) CanSignIn(way SignIn) bool {
	if way == SignInOAuth2 {
		return u.Subject != ""
	}
	return u.PasswordHash != ""
}

// MembershipSource says where a membership came from.
type MembershipSource string

// Sources of memberships.
const (
	// SourceManual memberships were added through the API or the command line.
	SourceManual MembershipSource = "manual"

	// SourceClaim memberships come from the role claim of an OAuth2 token and
	// are replaced at each new token.
	SourceClaim MembershipSource = "claim"
)

// Membership gives a user a role in a project.
type Membership struct {
	ProjectID   int64            `json:"-"`
	ProjectName string           `json:"project"`
	UserID      int64            `json:"-"`
	UserName    string           `json:"user"`
	Role        Role             `json:"role"`
	Source      MembershipSource `json:"source"`
	CreatedAt   time.Time        `json:"created_at"`
}

// Session is a signed-in browser. Only a hash of its secret ID is stored.
type Session struct {
	IDHash    string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIToken lets a backend program act in one project with one role. Only a
// hash of the secret is stored; Prefix is the start of the secret, shown so
// people can tell tokens apart.
type APIToken struct {
	ID        int64     `json:"id"`
	ProjectID int64     `json:"-"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Prefix    string    `json:"prefix"`
	Hash      string    `json:"-"`
	CreatedBy int64     `json:"-"`
	CreatedAt time.Time `json:"created_at"`

	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// AuthMethod says how a caller proved who they are.
type AuthMethod string

// Ways a caller authenticates.
const (
	AuthSession    AuthMethod = "session"
	AuthOAuth2     AuthMethod = "oauth2"
	AuthAPIToken   AuthMethod = "api_token"
	AuthAdminToken AuthMethod = "admin_token"
)

// Caller is who sent a request, as the authentication found them.
type Caller struct {
	// UserID and UserName name the user; both are empty for API tokens and
	// the admin token.
	UserID   int64
	UserName string

	// Account tells this user account apart from any later account that
	// gets the same (reused) id: see AccountTag. Empty for callers that are
	// not users.
	Account string

	// InstallAdmin callers may do everything.
	InstallAdmin bool

	Method AuthMethod

	// Credential is the raw JWT (OAuth2) or session ID (session), kept so a
	// custom URL signer can be asked on the caller's behalf. It is never
	// printed, logged or encoded: String, Format, LogValue and MarshalJSON
	// leave it out.
	Credential string

	// TokenProjectID and TokenRole are the one project and role of an API
	// token.
	TokenProjectID int64
	TokenRole      Role
}

// callerView is what a Caller shows of itself.
type callerView struct {
	UserID         int64      `json:"user_id,omitempty"`
	UserName       string     `json:"user_name,omitempty"`
	InstallAdmin   bool       `json:"installation_admin"`
	Method         AuthMethod `json:"method"`
	TokenProjectID int64      `json:"token_project_id,omitempty"`
	TokenRole      Role       `json:"token_role,omitempty"`
}

func (c Caller) view() callerView {
	return callerView{UserID: c.UserID, UserName: c.UserName, InstallAdmin: c.InstallAdmin,
		Method: c.Method, TokenProjectID: c.TokenProjectID, TokenRole: c.TokenRole}
}

// String describes the caller without its credential.
func (c Caller) String() string {
	s := fmt.Sprintf("%s caller", c.Method)
	if c.UserName != "" {
		s += fmt.Sprintf(" user %q (id %d)", c.UserName, c.UserID)
	}
	if c.TokenProjectID != 0 {
		s += fmt.Sprintf(" project %d as %s", c.TokenProjectID, c.TokenRole)
	}
	if c.InstallAdmin {
		s += " (installation admin)"
	}
	return s
}

// Format prints the caller as String does for every verb, so %v, %+v and
// %#v never show the credential.
func (c Caller) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// LogValue logs the caller without its credential.
func (c Caller) LogValue() slog.Value {
	return slog.GroupValue(slog.String("method", string(c.Method)),
		slog.Int64("user_id", c.UserID), slog.String("user", c.UserName),
		slog.Bool("installation_admin", c.InstallAdmin))
}

// MarshalJSON encodes the caller without its credential.
func (c Caller) MarshalJSON() ([]byte, error) { return json.Marshal(c.view()) }

type callerKey struct{}

// WithCaller returns a context that carries c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller that ctx carries, if any.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
