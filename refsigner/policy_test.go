package refsigner

import (
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
)

const testPolicy = `{"rules": [
	{"users": ["alice"], "buckets": ["media"], "prefixes": ["images/"], "methods": ["get"]},
	{"groups": ["vision:editor"], "buckets": ["media"], "prefixes": ["uploads/"], "methods": ["GET", "PUT"]},
	{"groups": ["vision:viewer"], "buckets": ["*"], "prefixes": ["public/"], "methods": ["GET"]},
	{"service": true, "buckets": ["media"], "prefixes": [""], "methods": ["GET"]}
]}`

func TestPolicyAllows(t *testing.T) {
	p, err := ParsePolicy([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	alice := Principal{User: "alice"}
	editor := Principal{User: "eve", Groups: []string{"vision:viewer", "vision:editor"}}
	viewer := Principal{User: "vic", Groups: []string{"vision:viewer"}}
	service := Principal{Service: true}
	get, put := mediasign.MethodGet, mediasign.MethodPut

	for _, tc := range []struct {
		who    Principal
		bucket string
		key    string
		m      mediasign.Method
		want   bool
	}{
		{alice, "media", "images/a.jpg", get, true},
		{alice, "media", "images/a.jpg", put, false},
		{alice, "media", "imagesX/a.jpg", get, false},
		{alice, "other", "images/a.jpg", get, false},
		{Principal{User: "Alice"}, "media", "images/a.jpg", get, false},
		{editor, "media", "uploads/x.png", put, true},
		{editor, "any-bucket", "public/p.png", get, true},
		{viewer, "media", "uploads/x.png", put, false},
		{viewer, "media", "uploads/x.png", get, false},
		{service, "media", "anything", get, true},
		{service, "media", "anything", put, false},
		{Principal{User: "service"}, "media", "anything", get, false},
		{Principal{}, "media", "public/p.png", get, false},
	} {
		if got := p.Allows(tc.who, tc.bucket, tc.key, tc.m); got != tc.want {
			t.Errorf("%+v %s %s/%s = %v, want %v", tc.who, tc.m, tc.bucket, tc.key, got, tc.want)
		}
	}
}

func TestPolicyRefusesMistakes(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{`{}`, "no rules"},
		{`{"rules": [{"buckets": ["b"], "prefixes": [""], "methods": ["GET"]}]}`, "names nobody"},
		{`{"rules": [{"users": ["a"], "prefixes": [""], "methods": ["GET"]}]}`, "buckets"},
		{`{"rules": [{"users": ["a"], "buckets": ["b"], "methods": ["GET"]}]}`, "prefixes"},
		{`{"rules": [{"users": ["a"], "buckets": ["b"], "prefixes": [""]}]}`, "methods"},
		{`{"rules": [{"users": ["a"], "buckets": ["b"], "prefixes": [""], "methods": ["DELETE"]}]}`,
			"DELETE"},
		{`{"rules": [{"user": ["a"], "buckets": ["b"], "prefixes": [""], "methods": ["GET"]}]}`,
			"unknown field"},
	} {
		_, err := ParsePolicy([]byte(tc.policy))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %q", tc.policy, err, tc.want)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"images/a.jpg": true, "images/a b+c.jpg": true, "images/..a.jpg": true,
		"": false, "images/../secret": false, "./a": false, "a/.": false, "a\nb": false,
		strings.Repeat("k", 1025): false, "\xff": false,
	} {
		if err := checkKey(key); (err == nil) != ok {
			t.Errorf("key %q: %v, want ok %v", key, err, ok)
		}
	}
}

func TestParsePolicyRefusesDuplicatesAndTrailingData(t *testing.T) {
	rule := `{"users": ["alice"], "buckets": ["media"], "prefixes": [""], "methods": ["GET"]}`
	for _, tc := range []struct {
		name, policy, want string
	}{
		{"second rules", `{"rules": [` + rule + `], "rules": [` + rule + `]}`, `"rules" appears twice`},
		{"case-folded key", `{"rules": [` + rule + `], "Rules": []}`, `"Rules" appears twice`},
		{"nested key", `{"rules": [{"users": ["a"], "users": ["b"], "buckets": ["m"],
			"prefixes": [""], "methods": ["GET"]}]}`, `"users" appears twice`},
		{"second object", `{"rules": [` + rule + `]} {"rules": []}`, "trailing data"},
		{"stray brace", `{"rules": [` + rule + `]}}`, "trailing data"},
		{"stray text", `{"rules": [` + rule + `]} x`, "trailing data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tc.policy))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParsePolicy = %v, want an error with %q", err, tc.want)
			}
		})
	}
	if _, err := ParsePolicy([]byte(`{"rules": [` + rule + `]}` + "\n\t ")); err != nil {
		t.Fatalf("a policy with trailing white space was refused: %v", err)
	}
}
