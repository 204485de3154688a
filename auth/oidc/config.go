package oidc

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// supportedAlgorithms are the asymmetric signature algorithms a Config may
// allow.
var supportedAlgorithms = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// Validate reports every problem in cfg at once, each saying what to change.
func (cfg Config) Validate() error {
	var problems []error
	if err := checkIssuer(cfg.Issuer); err != nil {
		problems = append(problems, err)
	}
	if strings.TrimSpace(cfg.Audience) == "" {
		problems = append(problems, errors.New(
			"audience is empty: set it to the value the provider puts in the aud claim, "+
				"usually the client ID"))
	}
	problems = append(problems, checkAlgorithms(cfg.Algorithms)...)

	if cfg.Leeway < 0 {
		problems = append(problems, fmt.Errorf(
			"leeway %s is negative: use 0 for the default of %s", cfg.Leeway, DefaultLeeway))
	}
	if cfg.Leeway > MaxLeeway {
		problems = append(problems, fmt.Errorf(
			"leeway %s is longer than the %s maximum", cfg.Leeway, MaxLeeway))
	}
	return errors.Join(problems...)
}

// checkIssuer checks that issuer is an https URL, or an http URL of a
// loopback host, with no query, fragment or user info.
func checkIssuer(issuer string) error {
	if issuer == "" {
		return errors.New("issuer is empty: set it to the provider's issuer URL, " +
			"for example https://login.example.com")
	}

	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("issuer %q is not a URL: %w", issuer, err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q must be a plain URL with a host and no user, "+
			"query or fragment", issuer)
	}
	return checkScheme("issuer", u)
}

// checkScheme refuses URLs that are not https, allowing http only for
// loopback hosts.
func checkScheme(what string, u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s %q uses http: use https (http is allowed only for "+
			"loopback hosts)", what, u.Redacted())
	default:
		return fmt.Errorf("%s %q must be an https URL", what, u.Redacted())
	}
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkAlgorithms returns one error for each name that may not be allowed.
func checkAlgorithms(names []string) []error {
	var problems []error
	for _, name := range names {
		switch {
		case slices.Contains(supportedAlgorithms, name):
		case strings.EqualFold(name, "none") || strings.HasPrefix(strings.ToUpper(name), "HS"):
			problems = append(problems, fmt.Errorf(
				"algorithm %q is refused: unsigned and HMAC tokens are never accepted; "+
					"use one of %s", name, strings.Join(supportedAlgorithms, ", ")))
		default:
			problems = append(problems, fmt.Errorf(
				"algorithm %q is not supported: use one of %s",
				name, strings.Join(supportedAlgorithms, ", ")))
		}
	}
	return problems
}
