package refsigner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth/oidc"
)

// errNoCredential and errBadCredential are answered with 401.
var (
	errNoCredential = errors.New("no credential: mediasign forwards the caller's JWT or " +
		"session cookie")
	errBadCredential = errors.New("the credential is not valid")
)

// identifier finds the principal of a request.
type identifier interface {
	identify(ctx context.Context, r *http.Request) (Principal, error)
}

// withService accepts the service token before asking next.
type withService struct {
	token string
	next  identifier
}

func (w withService) identify(ctx context.Context, r *http.Request) (Principal, error) {
	if w.token != "" {
		sent, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(sent), []byte(w.token)) == 1 {
			return Principal{Service: true}, nil
		}
	}
	return w.next.identify(ctx, r)
}

// jwtIdentifier checks a forwarded JWT, sent as "Bearer <jwt>" or bare.
type jwtIdentifier struct {
	verifier *oidc.Verifier
}

func (j jwtIdentifier) identify(ctx context.Context, r *http.Request) (Principal, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return Principal{}, errNoCredential
	}
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		h = strings.TrimSpace(rest)
	}
	claims, err := j.verifier.Verify(ctx, h)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %s", errBadCredential, mediasign.PublicMessage(err))
	}
	return Principal{User: claims.Subject, Groups: roleGroups(claims.Roles)}, nil
}

// roleGroups turns a role claim (project to role) into "project:role"
// groups, each role with the ones below it.
func roleGroups(roles map[string]string) []string {
	var out []string
	for project, role := range roles {
		r := mediasign.Role(role)
		for _, below := range []mediasign.Role{mediasign.RoleViewer, mediasign.RoleEditor,
			mediasign.RoleAdmin} {
			if r.AtLeast(below) {
				out = append(out, project+":"+string(below))
			}
		}
	}
	return out
}

// sessionIdentifier asks mediasign who a forwarded session cookie belongs
// to, and remembers answers for a short while.
type sessionIdentifier struct {
	url    string // mediasign's introspection endpoint
	secret string
	cookie string
	ttl    time.Duration
	client *http.Client
	clock  mediasign.Clock

	mu    sync.Mutex
	known map[[sha256.Size]byte]knownSession
}

type knownSession struct {
	principal Principal
	active    bool
	until     time.Time
}

// maxKnownSessions bounds the remembered introspection answers.
const maxKnownSessions = 10_000

func (s *sessionIdentifier) identify(ctx context.Context, r *http.Request) (Principal, error) {
	c, err := r.Cookie(s.cookie)
	if err != nil || c.Value == "" {
		return Principal{}, errNoCredential
	}
	h := sha256.Sum256([]byte(c.Value))
	if k, ok := s.remembered(h); ok {
		return k.result()
	}

	k, err := s.introspect(ctx, c.Value)
	if err != nil {
		return Principal{}, err
	}
	s.remember(h, k)
	return k.result()
}

func (k knownSession) result() (Principal, error) {
	if !k.active {
		return Principal{}, errBadCredential
	}
	return k.principal, nil
}

func (s *sessionIdentifier) remembered(h [sha256.Size]byte) (knownSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.known[h]
	return k, ok && s.clock.Now().Before(k.until)
}

func (s *sessionIdentifier) remember(h [sha256.Size]byte, k knownSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.known) >= maxKnownSessions {
		clear(s.known)
	}
	s.known[h] = k
}

// introspectAnswer is mediasign's answer about a session.
type introspectAnswer struct {
	Active bool `json:"active"`
	User   *struct {
		Name string `json:"name"`
	} `json:"user"`
	Groups []string `json:"groups"`
}

// introspect asks mediasign about one session ID.
func (s *sessionIdentifier) introspect(ctx context.Context, id string) (knownSession, error) {
	body, _ := json.Marshal(map[string]string{"session_id": id})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return knownSession{}, fmt.Errorf("build introspection request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.secret)
	req.Header.Set("Content-Type", "application/json")

	resp, err := s.client.Do(req)
	if err != nil {
		return knownSession{}, fmt.Errorf("ask mediasign about the session: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return knownSession{}, fmt.Errorf("ask mediasign about the session: answer %d "+
			"(check %s)", resp.StatusCode, EnvIntrospectionSecret)
	}
	var a introspectAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&a); err != nil {
		return knownSession{}, fmt.Errorf("read mediasign's introspection answer: %w", err)
	}
	return s.toKnown(a), nil
}

// toKnown turns an answer into what is remembered: active sessions for the
// ttl, unknown ones for a fifth of it.
func (s *sessionIdentifier) toKnown(a introspectAnswer) knownSession {
	now := s.clock.Now()
	if !a.Active || a.User == nil || a.User.Name == "" {
		return knownSession{until: now.Add(s.ttl / 5)}
	}
	return knownSession{active: true, until: now.Add(s.ttl),
		principal: Principal{User: a.User.Name, Groups: a.Groups}}
}
