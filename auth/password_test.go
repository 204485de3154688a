package auth

import (
	"context"
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h := newHasher(PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1, Concurrent: 2})
	enc, err := h.hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(enc, "horse") {
		t.Fatalf("encoding %q", enc)
	}
	again, _ := h.hash(ctx, "correct horse")
	if again == enc {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}

	for pw, want := range map[string]bool{"correct horse": true, "correct horsE": false, "": false} {
		if ok, err := h.verify(ctx, enc, pw); err != nil || ok != want {
			t.Errorf("verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if ok, err := h.verify(ctx, "", "anything"); err != nil || ok {
		t.Errorf("verify against no hash = %v, %v; want false", ok, err)
	}

	// Hashes made with other settings keep working.
	strong := newHasher(PasswordParams{Time: 2, MemoryKiB: 128, Threads: 2, Concurrent: 1})
	enc2, _ := strong.hash(ctx, "pw")
	if ok, _ := h.verify(ctx, enc2, "pw"); !ok {
		t.Error("a hash with other settings was not verified")
	}
}

func TestDecodeHashRefusesBadEncodings(t *testing.T) {
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=18$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$a2V5",
	} {
		if _, _, _, err := decodeHash(enc); err == nil {
			t.Errorf("decodeHash(%q) accepted it", enc)
		}
	}
}
