// Package urlcache keeps signed URLs for as long as they are safely valid,
// in an in-process tier in front of the persistent store, with an optional
// tier in between that replicas share.
package urlcache

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Environment variables of the cache policy.
const (
	EnvMinimumValid = "SIGNED_URL_CACHE_MINIMUM_SECONDS_VALID"
	EnvNewValid     = "SIGNED_URL_CACHE_NEW_OFFSET_SECONDS_VALID"
)

// misspelled maps names that look like the policy's but count days to the
// right name; setting one is refused, never ignored.
var misspelled = map[string]string{
	"SIGNED_URL_CACHE_MINIMUM_DAYS_VALID":    EnvMinimumValid,
	"SIGNED_URL_CACHE_NEW_OFFSET_DAYS_VALID": EnvNewValid,
}

// Policy says how long URLs are signed for and how long they are served.
type Policy struct {
	// MinValid is M: a cached URL is served only while it has at least this
	// much validity left.
	MinValid time.Duration

	// NewValid is N: a new URL is asked to be valid this long.
	NewValid time.Duration
}

// DefaultPolicy returns M = 5 days and N = 6 days.
func DefaultPolicy() Policy {
	return Policy{MinValid: 432000 * time.Second, NewValid: 518400 * time.Second}
}

// LoadPolicy reads the policy from the environment through lookup, starting
// from the defaults, and validates it.
func LoadPolicy(lookup func(string) (string, bool)) (Policy, error) {
	p, err := ParsePolicy(lookup)
	if err != nil {
		return Policy{}, err
	}
	return p, p.Validate()
}

// ParsePolicy reads the policy from the environment through lookup, starting
// from the defaults, without checking M < N.
func ParsePolicy(lookup func(string) (string, bool)) (Policy, error) {
	p := DefaultPolicy()
	var errs []error

	for wrong, right := range misspelled {
		if _, ok := lookup(wrong); ok {
			errs = append(errs, fmt.Errorf("%s is not a setting: the policy counts seconds; "+
				"set %s (in seconds) and unset %s", wrong, right, wrong))
		}
	}
	if v, ok := lookup(EnvMinimumValid); ok {
		if d, err := ParseSeconds(EnvMinimumValid, v); err != nil {
			errs = append(errs, err)
		} else {
			p.MinValid = d
		}
	}
	if v, ok := lookup(EnvNewValid); ok {
		if d, err := ParseSeconds(EnvNewValid, v); err != nil {
			errs = append(errs, err)
		} else {
			p.NewValid = d
		}
	}

	return p, errors.Join(errs...)
}

// ParseSeconds parses a whole, positive number of seconds given for setting.
func ParseSeconds(setting, v string) (time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q is not a whole number of seconds above 0 "+
			"(for example 432000 for 5 days)", setting, v)
	}
	if n > 10*365*24*3600 {
		return 0, fmt.Errorf("%s=%d is more than ten years; give seconds, not milliseconds",
			setting, n)
	}
	return time.Duration(n) * time.Second, nil
}

// Validate checks that M < N, without which every request would re-sign.
func (p Policy) Validate() error {
	if p.MinValid <= 0 || p.NewValid <= 0 {
		return fmt.Errorf("%s and %s must both be above 0", EnvMinimumValid, EnvNewValid)
	}
	if p.MinValid >= p.NewValid {
		return fmt.Errorf("%s=%d must be less than %s=%d: a new URL must outlive the "+
			"minimum validity, or no cached URL could ever be served; lower the first "+
			"or raise the second", EnvMinimumValid, int64(p.MinValid/time.Second),
			EnvNewValid, int64(p.NewValid/time.Second))
	}
	return nil
}

// Servable reports whether a URL expiring at expiresAt may be served at now.
func (p Policy) Servable(expiresAt, now time.Time) bool {
	return expiresAt.Sub(now) >= p.MinValid
}

// SafeFor returns how much longer a URL expiring at expiresAt stays
// servable at now, or zero.
func (p Policy) SafeFor(expiresAt, now time.Time) time.Duration {
	return max(expiresAt.Sub(now)-p.MinValid, 0)
}
