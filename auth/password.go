package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id settings for new password hashes. Stored
// hashes carry their own settings, so changing these keeps old passwords
// working.
type PasswordParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8

	// Concurrent bounds how many hashes run at once, so a burst of sign-ins
	// cannot take all memory.
	Concurrent int
}

// DefaultPasswordParams follow OWASP's argon2id recommendation: 19 MiB of
// memory, two passes, one thread.
var DefaultPasswordParams = PasswordParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1,
	Concurrent: 4}

const (
	saltLen = 16
	keyLen  = 32

	// Ceilings for settings read from a stored hash.
	maxTime      = 16
	maxMemoryKiB = 1 << 20
)

// hasher hashes and checks passwords with argon2id.
type hasher struct {
	params PasswordParams
	slots  chan struct{}

	dummyOnce sync.Once
	dummy     string
}

func newHasher(p PasswordParams) *hasher {
	if p.Time == 0 || p.MemoryKiB == 0 || p.Threads == 0 {
		p = DefaultPasswordParams
	}
	if p.Concurrent < 1 {
		p.Concurrent = 1
	}
	return &hasher{params: p, slots: make(chan struct{}, p.Concurrent)}
}

// acquire waits for a hashing slot.
func (h *hasher) acquire(ctx context.Context) (release func(), err error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hash returns the PHC-style encoding of an argon2id hash of password.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()

	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB,
		p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verify reports whether password matches an encoded hash. An empty
// encoding never matches but costs as much as a real check, so a sign-in
// for a missing user takes as long as one with a wrong password.
func (h *hasher) verify(ctx context.Context, encoded, password string) (bool, error) {
	if encoded == "" {
		encoded = h.dummyHash(ctx)
		password = "\x00" + password
	}
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()

	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash returns a hash of a random password, made once.
func (h *hasher) dummyHash(ctx context.Context) string {
	h.dummyOnce.Do(func() {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		h.dummy, _ = h.hash(ctx, string(b))
	})
	return h.dummy
}

var errBadHash = errors.New("decode password hash: not an argon2id hash this build reads")

// decodeHash parses an encoding made by hash, refusing settings beyond
// sane ceilings.
func decodeHash(encoded string) (PasswordParams, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return PasswordParams{}, nil, nil, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return PasswordParams{}, nil, nil, errBadHash
	}
	if p.Time < 1 || p.Time > maxTime || p.MemoryKiB < 8 || p.MemoryKiB > maxMemoryKiB || p.Threads < 1 {
		return PasswordParams{}, nil, nil, errBadHash
	}

	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return PasswordParams{}, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// GeneratePassword returns a random password of 26 characters (128 bits)
// from the base32 alphabet, easy to copy by hand.
func GeneratePassword() string { return rand.Text() }
