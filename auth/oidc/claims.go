package oidc

import "encoding/json"

// Project roles a role claim may grant.
var validRoles = map[string]bool{"viewer": true, "editor": true, "admin": true}

// stringClaim returns the claim name when it is a JSON string, and "" when it
// is absent or of another type.
func stringClaim(all map[string]json.RawMessage, name string) string {
	raw, ok := all[name]
	if !ok {
		return ""
	}

	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

// trueClaim reports whether the claim name is the JSON boolean true, or
// the string "true" that some providers send instead.
func trueClaim(all map[string]json.RawMessage, name string) bool {
	raw, ok := all[name]
	if !ok {
		return false
	}

	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b
	}
	return stringClaim(all, name) == "true"
}

// roles reads the role claim as an object of project names to roles and
// keeps the entries whose project name is not empty and whose role is
// viewer, editor or admin. A missing or malformed claim grants no role.
func (v *Verifier) roles(all map[string]json.RawMessage) map[string]string {
	roles := map[string]string{}
	if v.roleClaim == "" {
		return roles
	}

	var entries map[string]json.RawMessage
	if err := json.Unmarshal(all[v.roleClaim], &entries); err != nil {
		return roles
	}

	for project, raw := range entries {
		var role string
		if project == "" || json.Unmarshal(raw, &role) != nil || !validRoles[role] {
			continue
		}
		roles[project] = role
	}
	return roles
}
