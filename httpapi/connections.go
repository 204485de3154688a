package httpapi

import (
	"net/http"
	"time"

	"github.com/mediasign/mediasign"
)

// connectionInput is what clients send to create or change a connection.
type connectionInput struct {
	Name     string                 `json:"name"`
	Provider mediasign.Provider     `json:"provider"`
	S3       *mediasign.S3Config    `json:"s3,omitempty"`
	Local    *mediasign.LocalConfig `json:"local,omitempty"`

	// Signer sets the custom URL signer. On update, leaving it out keeps
	// the stored one and {"url": ""} removes it.
	Signer *mediasign.SignerConfig `json:"signer,omitempty"`
}

// connectionView is a connection as the API shows it: secrets are never
// returned, only whether they are set.
type connectionView struct {
	Name      string                 `json:"name"`
	Provider  mediasign.Provider     `json:"provider"`
	Revision  int64                  `json:"revision"`
	CreatedAt time.Time              `json:"created_at"`
	UpdatedAt time.Time              `json:"updated_at"`
	S3        *s3View                `json:"s3,omitempty"`
	Local     *mediasign.LocalConfig `json:"local,omitempty"`
	Signer    *signerView            `json:"signer,omitempty"`

	// Projects are the projects whose admins may import from the
	// connection.
	Projects []string `json:"projects"`
}

// signerView shows a custom URL signer without its service token.
type signerView struct {
	URL             string `json:"url"`
	Forward         string `json:"forward"`
	CookieName      string `json:"cookie_name"`
	HasServiceToken bool   `json:"has_service_token"`
	CacheScope      string `json:"cache_scope"`
	Batch           bool   `json:"batch"`
	TimeoutMS       int    `json:"timeout_ms"`
	MaxConcurrency  int    `json:"max_concurrency"`
}

func viewSigner(c *mediasign.SignerConfig) *signerView {
	if c == nil {
		return nil
	}
	return &signerView{URL: c.URL, Forward: c.Forward, CookieName: c.CookieName,
		HasServiceToken: c.ServiceToken != "", CacheScope: c.CacheScope, Batch: c.Batch,
		TimeoutMS: c.TimeoutMS, MaxConcurrency: c.MaxConcurrency}
}

type s3View struct {
	AccessKeyID         string     `json:"access_key_id"`
	HasSecret           bool       `json:"has_secret_access_key"`
	HasSessionToken     bool       `json:"has_session_token"`
	CredentialsExpireAt *time.Time `json:"credentials_expire_at,omitempty"`
	Region              string     `json:"region"`
	Endpoint            string     `json:"endpoint,omitempty"`
	PathStyle           bool       `json:"path_style"`
	PublicEndpoint      string     `json:"public_endpoint,omitempty"`
}

// ViewConnection returns the public view of c.
func viewConnection(c *mediasign.Connection) connectionView {
	v := connectionView{Name: c.Name, Provider: c.Provider, Revision: c.Revision,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Local: c.Local, Projects: []string{},
		Signer: viewSigner(c.Signer)}
	if c.S3 != nil {
		v.S3 = &s3View{AccessKeyID: c.S3.AccessKeyID, HasSecret: c.S3.SecretAccessKey != "",
			HasSessionToken: c.S3.SessionToken != "", CredentialsExpireAt: c.S3.CredentialsExpireAt,
			Region: c.S3.Region, Endpoint: c.S3.Endpoint, PathStyle: c.S3.PathStyle,
			PublicEndpoint: c.S3.PublicEndpoint}
	}
	return v
}

func (in connectionInput) connection() (*mediasign.Connection, error) {
	c := &mediasign.Connection{Name: in.Name, Provider: in.Provider, S3: in.S3, Local: in.Local,
		Signer: in.Signer}
	switch {
	case in.Provider == mediasign.ProviderS3 && in.S3 == nil:
		return nil, mediasign.Invalidf(`provider s3 needs an "s3" object with its settings`)
	case in.Provider == mediasign.ProviderLocal && in.Local == nil:
		return nil, mediasign.Invalidf(`provider local needs a "local" object with its root`)
	case in.S3 != nil && in.Local != nil:
		return nil, mediasign.Invalidf(`give "s3" or "local" settings, not both`)
	}
	return c, nil
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	conns, err := s.svc.Connections(r.Context())
	if err != nil {
		return err
	}
	out := make([]connectionView, len(conns))
	for i, c := range conns {
		if out[i], err = s.viewWithGrants(r, c); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
	return nil
}

// viewWithGrants returns the view of c with the projects it is granted to.
func (s *Server) viewWithGrants(r *http.Request, c *mediasign.Connection) (connectionView, error) {
	v := viewConnection(c)
	projects, err := s.auth.Users().ConnectionGrants(r.Context(), c.ID)
	v.Projects = nonNil(projects)
	return v, err
}

// grantConnection lets the admins of a project import from a connection.
func (s *Server) grantConnection(w http.ResponseWriter, r *http.Request) error {
	err := s.auth.Users().GrantConnection(r.Context(), r.PathValue("name"),
		r.PathValue("project"))
	if err != nil {
		return err
	}
	return s.writeConnection(w, r, http.StatusOK)
}

// revokeConnection takes a project's grant of a connection back.
func (s *Server) revokeConnection(w http.ResponseWriter, r *http.Request) error {
	err := s.auth.Users().RevokeConnection(r.Context(), r.PathValue("name"),
		r.PathValue("project"))
	if err != nil {
		return err
	}
	return s.writeConnection(w, r, http.StatusOK)
}

// writeConnection answers with the {name} connection and its grants.
func (s *Server) writeConnection(w http.ResponseWriter, r *http.Request, code int) error {
	c, err := s.svc.Connection(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	v, err := s.viewWithGrants(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, code, v)
	return nil
}

func (s *Server) addConnection(w http.ResponseWriter, r *http.Request) error {
	var in connectionInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := in.connection()
	if err != nil {
		return err
	}
	if err := s.svc.AddConnection(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewConnection(c))
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	return s.writeConnection(w, r, http.StatusOK)
}

func (s *Server) updateConnection(w http.ResponseWriter, r *http.Request) error {
	var in connectionInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	name := r.PathValue("name")
	if in.Name == "" {
		in.Name = name
	}
	c, err := in.connection()
	if err != nil {
		return err
	}
	if err := s.svc.UpdateConnection(r.Context(), name, c); err != nil {
		return err
	}
	v, err := s.viewWithGrants(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) testConnection(w http.ResponseWriter, r *http.Request) error {
	bucket := r.URL.Query().Get("bucket")
	if err := s.svc.TestConnection(r.Context(), r.PathValue("name"), bucket); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}
