package local

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/fakeclock"
)

// baselineMAC computes the same MAC as computeMAC in the plainest way: a new
// HMAC per call and three writes per field.
func baselineMAC(secret []byte, f signedFields) []byte {
	h := hmac.New(sha256.New, secret)
	baselineField(h, macContext)
	baselineField(h, f.keyID)
	baselineField(h, string(f.method))
	baselineField(h, strconv.FormatInt(f.connID, 10))
	baselineField(h, filepath.Clean(f.root))
	baselineField(h, f.key)
	baselineField(h, strconv.FormatInt(f.expires, 10))
	return h.Sum(nil)
}

func baselineField(h hash.Hash, s string) {
	var buf [20]byte
	h.Write(strconv.AppendInt(buf[:0], int64(len(s)), 10))
	h.Write([]byte{':'})
	h.Write([]byte(s))
}

// baselineSignURL signs req the way SignURL does, with baselineMAC and a
// new URL buffer per call.
func baselineSignURL(s *Storage, req mediasign.SignRequest) (string, error) {
	if err := checkSignRequest(req); err != nil {
		return "", err
	}

	expires := s.clock.Now().Truncate(time.Second).Add(req.Expires.Truncate(time.Second)).Unix()
	kid, secret := s.keyring.active()
	mac := baselineMAC(secret, signedFields{keyID: kid, method: mediasign.MethodGet,
		connID: s.connID, root: s.root, key: req.Key, expires: expires})

	b := make([]byte, 0, len(s.baseURL)+len(req.Key)*3+160)
	b = append(b, s.baseURL...)
	b = append(b, FilesPath...)
	b = strconv.AppendInt(b, s.connID, 10)
	b = append(b, '/')
	b = appendEscapedKey(b, req.Key)
	b = append(b, "?"+ParamExpires+"="...)
	b = strconv.AppendInt(b, expires, 10)
	b = append(b, "&"+ParamKeyID+"="...)
	b = append(b, kid...)
	b = append(b, "&"+ParamSignature+"="...)
	b = base64.RawURLEncoding.AppendEncode(b, mac)
	return string(b), nil
}

// randomFields returns signed fields with random content, including roots
// that need cleaning and keys with bytes that need escaping.
func randomFields(rng *rand.Rand) signedFields {
	return signedFields{
		keyID:   randomString(rng, rng.IntN(70), "abcXYZ09-_"),
		method:  mediasign.Method(randomString(rng, rng.IntN(5), "GETPUgetpu")),
		connID:  rng.Int64() - rng.Int64(),
		root:    "/" + randomString(rng, rng.IntN(300), "ab/.é "),
		key:     randomString(rng, rng.IntN(maxKeyLen+1), "abz09/.-_~ %?#:\x00\xff"),
		expires: rng.Int64() - rng.Int64(),
	}
}

func randomString(rng *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func randomSecret(rng *rand.Rand) []byte {
	secret := make([]byte, rng.IntN(3*sha256.BlockSize))
	for i := range secret {
		secret[i] = byte(rng.Uint32())
	}
	return secret
}

func TestComputeMACMatchesBaseline(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	secrets := make([][]byte, 8)
	for i := range secrets {
		secrets[i] = randomSecret(rng)
	}
	secrets = append(secrets, bytes.Repeat([]byte{7}, sha256.BlockSize),
		bytes.Repeat([]byte{7}, sha256.BlockSize+1), nil)

	for i := range 2000 {
		secret := secrets[i%len(secrets)]
		if i%5 == 0 {
			secret = randomSecret(rng)
		}
		f := randomFields(rng)

		got, want := computeMAC(secret, f), baselineMAC(secret, f)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: computeMAC = %x, baseline = %x; secret %x, fields %+v",
				i, got, want, secret, f)
		}
	}
}

func TestComputeMACConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	secrets := [][]byte{randomSecret(rng), randomSecret(rng), randomSecret(rng)}
	fields := make([]signedFields, 64)
	want := make([][]byte, len(fields)*len(secrets))
	for i := range fields {
		fields[i] = randomFields(rng)
		for j, secret := range secrets {
			want[i*len(secrets)+j] = baselineMAC(secret, fields[i])
		}
	}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range len(want) {
				i := (n + g) % len(want)
				got := computeMAC(secrets[i%len(secrets)], fields[i/len(secrets)])
				if !bytes.Equal(got, want[i]) {
					t.Errorf("goroutine %d, case %d: got %x, want %x", g, i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

// benchKeys returns object keys of the kinds a dataset holds.
func benchKeys() []string {
	keys := make([]string, 256)
	for i := range keys {
		switch i % 4 {
		case 0:
			keys[i] = fmt.Sprintf("datasets/cats/img_%05d.jpg", i)
		case 1:
			keys[i] = fmt.Sprintf("projects/42/raw/2026-12-04/frame %06d.png", i)
		case 2:
			keys[i] = fmt.Sprintf("annotations/caf\u00e9/%d/thumb.webp", i)
		default:
			keys[i] = fmt.Sprintf("v/%x.mp4", i*7919)
		}
	}
	return keys
}

// newBenchStorage returns a local connection with its own keyring and a
// clock that stands still.
func newBenchStorage(tb testing.TB) *Storage {
	tb.Helper()
	kr, err := OpenKeyring(filepath.Join(tb.TempDir(), "keys.json"))
	if err != nil {
		tb.Fatal(err)
	}

	conn := &mediasign.Connection{ID: 12, Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: "/srv/media/datasets"}}
	s, err := New(conn, Options{BaseURL: "https://media.example.com", Keyring: kr,
		Clock: fakeclock.New(time.Date(2026, 12, 4, 9, 30, 15, 0, time.UTC))})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func benchRequest(key string) mediasign.SignRequest {
	return mediasign.SignRequest{Key: key, Method: mediasign.MethodGet, Expires: 6 * 24 * time.Hour}
}

func TestSignURLMatchesBaseline(t *testing.T) {
	s := newBenchStorage(t)
	rng := rand.New(rand.NewPCG(4, 5))
	keys := benchKeys()
	for range 500 {
		keys = append(keys, randomString(rng, 1+rng.IntN(200), "abz09-_~ %?#:\xff"))
	}

	for _, key := range keys {
		req := benchRequest(key)
		got, err := s.SignURL(context.Background(), req)
		want, werr := baselineSignURL(s, req)
		if (err == nil) != (werr == nil) {
			t.Fatalf("key %q: SignURL error %v, baseline error %v", key, err, werr)
		}
		if got.URL != want {
			t.Fatalf("key %q:\nSignURL  %s\nbaseline %s", key, got.URL, want)
		}
	}
}

// oursNsPerOp is the time per URL that BenchmarkLocalSignURL measured last,
// which BenchmarkLocalSignURLBaseline divides its own time by.
var oursNsPerOp float64

func BenchmarkLocalSignURL(b *testing.B) {
	s := newBenchStorage(b)
	keys := benchKeys()
	ctx := context.Background()
	b.ReportAllocs()

	i := 0
	for b.Loop() {
		if _, err := s.SignURL(ctx, benchRequest(keys[i%len(keys)])); err != nil {
			b.Fatal(err)
		}
		i++
	}
	oursNsPerOp = float64(b.Elapsed().Nanoseconds()) / float64(i)
}

func BenchmarkLocalSignURLBaseline(b *testing.B) {
	s := newBenchStorage(b)
	keys := benchKeys()
	b.ReportAllocs()

	i := 0
	for b.Loop() {
		if _, err := baselineSignURL(s, benchRequest(keys[i%len(keys)])); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if oursNsPerOp > 0 {
		ns := float64(b.Elapsed().Nanoseconds()) / float64(i)
		b.ReportMetric(ns/oursNsPerOp, "x-ours")
	}
}

// TestSignURLAllocations holds SignURL to one allocation per URL: the URL
// string itself.
func TestSignURLAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping: the race detector makes sync.Pool drop items, so allocations vary")
	}
	s := newBenchStorage(t)
	keys := benchKeys()
	ctx := context.Background()
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.SignURL(ctx, benchRequest(keys[i%len(keys)])); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs > 2 {
		t.Fatalf("SignURL makes %.1f allocations per URL, want at most 2", allocs)
	}
}
