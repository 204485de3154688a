package export

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// credentialUntil returns when the credential of the caller in ctx ends, so
// that custom URL signers are asked on the requester's behalf only while it
// lasts: a session's expiry, or the exp claim of a JWT. It is zero when the
// caller has no credential or its expiry cannot be read.
func (x *Exporter) credentialUntil(ctx context.Context) time.Time {
	c, ok := mediasign.CallerFrom(ctx)
	if !ok || c.Credential == "" {
		return time.Time{}
	}
	switch c.Method {
	case mediasign.AuthSession:
		return x.sessionExpiry(ctx, c.Credential)
	case mediasign.AuthOAuth2:
		return jwtExpiry(c.Credential)
	}
	return time.Time{}
}

// sessionExpiry looks up the session with id by the hash it is stored
// under.
func (x *Exporter) sessionExpiry(ctx context.Context, id string) time.Time {
	s, err := x.opts.Store.Session(ctx, auth.SessionKey(id))
	if err != nil {
		if mediasign.ErrorCode(err) != mediasign.CodeNotFound {
			x.opts.Logger.WarnContext(ctx, "read session expiry for export", "error", err)
		}
		return time.Time{}
	}
	return s.ExpiresAt
}

// jwtExpiry reads the exp claim of a JWT that authentication verified when
// the export was started; zero when it has none.
func jwtExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil {
		return time.Time{}
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}
