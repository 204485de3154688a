package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Environment variables of sign-in. The OAuth2 names carry no MEDIASIGN_
// prefix: they are the names deployments of this kind already use.
const (
	EnvUseOAuth2        = "USE_OAUTH2"
	EnvOAuth2Issuer     = "OAUTH2_ISSUER"
	EnvOAuth2Audience   = "OAUTH2_AUDIENCE"
	EnvOAuth2Algorithms = "OAUTH2_ALGORITHMS"
	EnvOAuth2RoleClaim  = "OAUTH2_ROLE_CLAIM"

	// EnvTrustedProxies lists the networks (CIDR) or addresses of reverse
	// proxies whose X-Forwarded-For header names the client.
	EnvTrustedProxies = "MEDIASIGN_TRUSTED_PROXIES"

	// DefaultSessionTTL is how long a sign-in lasts when nothing is set.
	DefaultSessionTTL = 24 * time.Hour

	minSessionTTL = time.Minute
	maxSessionTTL = 30 * 24 * time.Hour
)

// OAuth2 holds the settings of OAuth2 mode.
type OAuth2 struct {
	Enabled  bool
	Issuer   string
	Audience string

	// Algorithms is the allow-list of JWT signature algorithms; empty
	// means the verifier's default.
	Algorithms []string

	// RoleClaim names a claim that maps project names to roles; empty
	// means roles are managed in mediasign only.
	RoleClaim string
}

// oauth2Algorithms are the asymmetric JWT algorithms that may be allowed.
var oauth2Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA"}

// loadAuth reads the sign-in settings.
func (c *Config) loadAuth(lookup func(string) (string, bool)) error {
	var errs []error
	boolean := func(name string, dst *bool) {
		v, ok := lookup(name)
		if !ok || strings.TrimSpace(v) == "" {
			return
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not true or false", name, v))
		}
		*dst = b
	}
	boolean(EnvUseOAuth2, &c.OAuth2.Enabled)
	boolean(EnvBehindHTTPS, &c.BehindHTTPS)

	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	str(EnvOAuth2Issuer, &c.OAuth2.Issuer)
	str(EnvOAuth2Audience, &c.OAuth2.Audience)
	str(EnvOAuth2RoleClaim, &c.OAuth2.RoleClaim)
	if v, ok := lookup(EnvOAuth2Algorithms); ok {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.OAuth2.Algorithms = append(c.OAuth2.Algorithms, a)
			}
		}
	}

	if v, ok := lookup(EnvTrustedProxies); ok {
		proxies, err := ParseTrustedProxies(v)
		errs = append(errs, err)
		c.TrustedProxies = proxies
	}

	if v, ok := lookup(EnvSessionTTL); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not a whole number of seconds", EnvSessionTTL, v))
		}
		c.SessionTTL = time.Duration(n) * time.Second
	}
	return errors.Join(errs...)
}

// validateAuth checks the sign-in settings as a whole.
func (c *Config) validateAuth() error {
	var errs []error
	if c.SessionTTL < minSessionTTL || c.SessionTTL > maxSessionTTL {
		errs = append(errs, fmt.Errorf("%s=%d is out of range: give %d to %d seconds",
			EnvSessionTTL, int64(c.SessionTTL/time.Second), int64(minSessionTTL/time.Second),
			int64(maxSessionTTL/time.Second)))
	}
	if !c.OAuth2.Enabled {
		return errors.Join(errs...)
	}

	if u, err := url.Parse(c.OAuth2.Issuer); c.OAuth2.Issuer == "" || err != nil || u.Host == "" ||
		(u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("%s=true needs %s, the provider's issuer URL, for "+
			"example https://login.example.com/realms/media", EnvUseOAuth2, EnvOAuth2Issuer))
	}
	if c.OAuth2.Audience == "" {
		errs = append(errs, fmt.Errorf("%s=true needs %s, the audience the provider puts in "+
			"its tokens (usually the client ID)", EnvUseOAuth2, EnvOAuth2Audience))
	}
	for _, a := range c.OAuth2.Algorithms {
		if !oneOf(a, oauth2Algorithms...) {
			errs = append(errs, fmt.Errorf("%s names %q: allow only %s", EnvOAuth2Algorithms, a,
				strings.Join(oauth2Algorithms, ", ")))
		}
	}
	return errors.Join(errs...)
}

// ParseTrustedProxies reads a comma-separated list of networks in CIDR
// notation (10.0.0.0/8, fd00::/8) or single addresses, and returns each as
// a network. It names every entry that is neither.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var (
		out  []netip.Prefix
		errs []error
	)
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parseProxy(entry)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s names %q: give networks such as 10.0.0.0/8 "+
				"or addresses such as 192.0.2.10, separated by commas", EnvTrustedProxies, entry))
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// parseProxy parses one network or address; an address is a network of one.
func parseProxy(entry string) (netip.Prefix, error) {
	if strings.Contains(entry, "/") {
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
