package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// TestHiddenLooksMissing asks for media, datasets and projects that the
// caller may not view: each answer is the answer for one that does not
// exist, with only the name or id changed, so a signed-in caller cannot
// learn what exists elsewhere. A caller who can view the project but lacks
// the role still gets 403.
func TestHiddenLooksMissing(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	viewer := f.login("viewer", "password-1").apply

	for _, tc := range []struct {
		method, hidden, missing, body string
		from, to                      string
	}{
		{"GET", "/api/v1/media/2/url", "/api/v1/media/999/url", "", "2", "999"},
		{"GET", "/m/2", "/m/999", "", "2", "999"},
		{"GET", "/m/2?variant=thumb", "/m/999?variant=thumb", "", "2", "999"},
		{"GET", "/api/v1/datasets/2", "/api/v1/datasets/999", "", "2", "999"},
		{"GET", "/api/v1/datasets/2/media", "/api/v1/datasets/999/media", "", "2", "999"},
		{"POST", "/api/v1/datasets/2/imports", "/api/v1/datasets/999/imports",
			`{"connection":"fake","bucket":"b"}`, "2", "999"},
		{"GET", "/api/v1/projects/other/datasets", "/api/v1/projects/nope/datasets", "",
			"other", "nope"},
		{"POST", "/api/v1/projects/other/datasets", "/api/v1/projects/nope/datasets",
			`{"name":"x"}`, "other", "nope"},
		{"GET", "/api/v1/projects/other/members", "/api/v1/projects/nope/members", "",
			"other", "nope"},
		{"GET", "/api/v1/projects/other/tokens", "/api/v1/projects/nope/tokens", "",
			"other", "nope"},
	} {
		before := f.storage.calls()
		hr, hb := f.do(tc.method, tc.hidden, tc.body, viewer)
		mr, mb := f.do(tc.method, tc.missing, tc.body, viewer)
		if hr.StatusCode != 404 || mr.StatusCode != 404 {
			t.Errorf("%s %s = %d, missing = %d; want 404 for both", tc.method, tc.hidden,
				hr.StatusCode, mr.StatusCode)
			continue
		}
		he, me := errorOf(t, hr, hb), errorOf(t, mr, mb)
		if he.Code != me.Code || strings.ReplaceAll(he.Message, tc.from, tc.to) != me.Message {
			t.Errorf("%s %s = %+v, missing = %+v: want the same answer", tc.method, tc.hidden, he, me)
		}
		if f.storage.calls() != before {
			t.Errorf("%s %s reached the storage", tc.method, tc.hidden)
		}
	}

	// The viewer sees project p, so a missing role there is a plain 403.
	for _, path := range []string{"/api/v1/projects/p/members", "/api/v1/projects/p/tokens"} {
		if got := f.status("GET", path, "", viewer); got != 403 {
			t.Errorf("viewer: GET %s = %d, want 403", path, got)
		}
	}
	if got := f.status("POST", "/api/v1/projects/p/datasets", `{"name":"x"}`, viewer); got != 403 {
		t.Errorf("viewer: add dataset to p = %d, want 403", got)
	}
}

// TestBatchHidesOtherProjects checks that a batch answers media of a
// project the caller cannot view exactly as media that do not exist.
func TestBatchHidesOtherProjects(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)

	_, body := f.do("POST", "/api/v1/media/urls", `{"ids":[2,999,1]}`,
		f.login("viewer", "password-1").apply)
	var out struct {
		Results []urlAnswer `json:"results"`
	}
	must(t, json.Unmarshal(body, &out))
	if len(out.Results) != 3 {
		t.Fatalf("batch = %s, want 3 results", body)
	}
	hidden, missing, own := out.Results[0], out.Results[1], out.Results[2]
	if hidden.Error == nil || missing.Error == nil || own.Error != nil {
		t.Fatalf("batch = %s, want errors for 2 and 999 and a URL for 1", body)
	}
	if hidden.Error.Code != missing.Error.Code ||
		strings.ReplaceAll(hidden.Error.Message, "2", "999") != missing.Error.Message {
		t.Errorf("hidden item %+v differs from missing item %+v", hidden.Error, missing.Error)
	}
}
