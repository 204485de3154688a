package refsigner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/mediasign/mediasign"
)

// Policy says who may sign what. A request is allowed when one rule
// matches its caller, bucket, key and method; everything else is refused.
type Policy struct {
	Rules []Rule `json:"rules"`
}

// Rule grants methods on key prefixes of buckets to users, groups or the
// service token.
type Rule struct {
	// Users are JWT subjects (jwt mode) or mediasign user names (session
	// mode).
	Users []string `json:"users,omitempty"`

	// Groups are "project:role" names, from the token's role claim (jwt
	// mode) or the user's memberships (session mode). A role implies the
	// ones below it: an editor is also in "project:viewer".
	Groups []string `json:"groups,omitempty"`

	// Service matches requests that carry the service token.
	Service bool `json:"service,omitempty"`

	// Buckets the rule covers; "*" covers every bucket.
	Buckets []string `json:"buckets"`

	// Prefixes of the keys the rule covers; "" covers every key.
	Prefixes []string `json:"prefixes"`

	// Methods are "GET" (view) and "PUT" (upload).
	Methods []mediasign.Method `json:"methods"`
}

// Principal is who a request speaks for.
type Principal struct {
	Service bool
	User    string
	Groups  []string
}

// LoadPolicy reads and checks a policy file.
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	p, err := ParsePolicy(b)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes and checks a policy, refusing unknown fields so a
// misspelled one never widens or narrows a rule unnoticed.
func ParsePolicy(b []byte) (*Policy, error) {
	if err := checkDuplicateKeys(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); dec.More() || !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the policy object: give exactly one " +
			"JSON object")
	}
	if len(p.Rules) == 0 {
		return nil, fmt.Errorf(`no rules: give {"rules": [...]}; with none every request is refused`)
	}
	for i := range p.Rules {
		if err := p.Rules[i].check(); err != nil {
			return nil, fmt.Errorf("rule %d: %w", i+1, err)
		}
	}
	return &p, nil
}

func (r *Rule) check() error {
	if len(r.Users) == 0 && len(r.Groups) == 0 && !r.Service {
		return fmt.Errorf(`names nobody: give "users", "groups" or "service": true`)
	}
	if len(r.Buckets) == 0 {
		return fmt.Errorf(`has no "buckets": name them, or give ["*"] for every bucket`)
	}
	if len(r.Prefixes) == 0 {
		return fmt.Errorf(`has no "prefixes": name them, or give [""] for every key`)
	}
	if len(r.Methods) == 0 {
		return fmt.Errorf(`has no "methods": give ["GET"], ["PUT"] or both`)
	}
	for i, m := range r.Methods {
		m = mediasign.Method(strings.ToUpper(string(m)))
		if m != mediasign.MethodGet && m != mediasign.MethodPut {
			return fmt.Errorf("method %q is not GET or PUT", r.Methods[i])
		}
		r.Methods[i] = m
	}
	return nil
}

// Allows reports whether p lets pr use method m on key of bucket.
func (p *Policy) Allows(pr Principal, bucket, key string, m mediasign.Method) bool {
	for _, r := range p.Rules {
		if r.names(pr) && r.covers(bucket, key, m) {
			return true
		}
	}
	return false
}

func (r *Rule) names(pr Principal) bool {
	if pr.Service {
		return r.Service
	}
	if pr.User != "" && slices.Contains(r.Users, pr.User) {
		return true
	}
	for _, g := range pr.Groups {
		if slices.Contains(r.Groups, g) {
			return true
		}
	}
	return false
}

func (r *Rule) covers(bucket, key string, m mediasign.Method) bool {
	if !slices.Contains(r.Methods, m) {
		return false
	}
	if !slices.Contains(r.Buckets, "*") && !slices.Contains(r.Buckets, bucket) {
		return false
	}
	for _, prefix := range r.Prefixes {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}
