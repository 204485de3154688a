package auth

import "testing"

func TestNameCandidatesPreferTheChosenName(t *testing.T) {
	got := nameCandidates(&ExternalClaims{Subject: "abc", PreferredUsername: "alice",
		Email: "alice@example.com", EmailVerified: true, Name: "Alice Liddell"})
	want := []string{"alice", "alice-", "alice@example.com", "alice@example.com-", "Alice.Liddell"}
	for i, w := range want {
		if i >= len(got) || (got[i] != w && !(w[len(w)-1] == '-' && len(got[i]) == len(w)+8)) {
			t.Fatalf("candidates = %q, want them to start like %q", got, want)
		}
	}
	if c := nameCandidates(&ExternalClaims{Subject: "abc"}); len(c) != 2 || c[0][:5] != "user-" {
		t.Fatalf("candidates without names = %q, want two user- names", c)
	}
	unverified := nameCandidates(&ExternalClaims{Subject: "abc", Email: "alice@example.com"})
	if len(unverified) != 2 || unverified[0][:5] != "user-" {
		t.Fatalf("candidates with an unverified email = %q, want only user- names", unverified)
	}
}
