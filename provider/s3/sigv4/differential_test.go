package sigv4

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// diffCases is how many random requests TestDifferentialSDK signs.
const diffCases = 100_000

// diffConfigs is how many random connections the requests are spread over.
const diffConfigs = 200

// TestDifferentialSDK signs random keys with random options at a fixed
// clock with the engine and with the AWS SDK's v4 signer, and wants
// byte-identical URLs and the same signed headers. MEDIASIGN_DIFF_SEED
// replays a run; the seed is logged on failure.
func TestDifferentialSDK(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MEDIASIGN_DIFF_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("MEDIASIGN_DIFF_SEED=%q: %v", s, err)
		}
	}
	g := &gen{rng: rand.New(rand.NewPCG(seed, seed^0x5eed))}

	keys := NewKeyCache(2 * diffConfigs)
	configs := make([]Config, diffConfigs)
	signers := make([]*Signer, diffConfigs)
	for i := range configs {
		configs[i] = g.config()
		configs[i].Keys = keys
		signers[i] = newSigner(t, configs[i])
	}

	for i := range diffCases {
		c := g.rng.IntN(diffConfigs)
		r := g.request()

		ours, err := signers[c].Presign(&r)
		if err != nil {
			t.Fatalf("seed %d case %d: Presign(%+v): %v", seed, i, r, err)
		}
		theirs, headers := sdkPresign(t, configs[c], &r)
		if ours.URL != theirs {
			t.Fatalf("seed %d case %d: URLs differ for %+v\n ours %s\n SDK  %s",
				seed, i, r, ours.URL, theirs)
		}
		if o, s := presignedHeaderNames(ours), signedHeaderNames(headers); !slices.Equal(o, s) {
			t.Fatalf("seed %d case %d: headers to send %v, SDK signed %v", seed, i, o, s)
		}
	}
}

// gen makes random connections and requests.
type gen struct{ rng *rand.Rand }

// diffTime is the fixed clock of the differential test.
var diffTime = time.Date(2024, 11, 30, 23, 59, 58, 750_000_000, time.UTC)

// Pools that random values are drawn from.
var (
	diffRegions = []string{"us-east-1", "eu-north-1", "ap-southeast-2", "cn-north-1",
		"us-gov-west-1", "auto", "garage"}
	diffHosts = []string{"s3.eu-north-1.amazonaws.com", "s3.amazonaws.com",
		"minio.local:9000", "S3.Example.Internal", "files.example.com", "127.0.0.1:9000",
		"[::1]:9000", "h:80", "h:443", "localhost:9000", "storage.example.com:8443"}
	diffBuckets = []string{"media-test", "media.example.com", "Media_Test", "a.b.c", "ab",
		"192.168.1.1", "my-bucket-2024", "x--y", "a-.b", "bucket.", strings.Repeat("b", 63),
		strings.Repeat("b", 64), "UPPER", "with space", "ümlaut", "semi;colon", "c:d"}
	diffHeaderNames = []string{"X-Custom", "x-custom", "Cache-Control", "If-Match", "Range",
		"X-Meta_Thing", "Accept", "Origin"}
	diffMethods = []string{"GET", "HEAD", "PUT", "DELETE"}
)

// keyPieces are the awkward parts keys are made of besides random runes.
var keyPieces = []string{"/", "//", ".", "..", "./", "../", "%", "%2F", "%25", "%20", "+", " ",
	"~", "#", "?", "&", "=", ";", ":", "@", "!", "*", "'", "(", ")", "[", "]", "$", ",", "\"",
	"<", ">", "\\", "^", "`", "{", "}", "|", "\t", "\x00", "\x7f", "é", "写真", "🦊", "\u00a0",
	"\u200b", "\ufeff"}

// config returns a random valid connection.
func (g *gen) config() Config {
	cfg := Config{
		Credentials: Credentials{
			AccessKeyID:     "AKIA" + g.word("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
			SecretAccessKey: g.word("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/", 40),
		},
		Region:    pick(g, diffRegions),
		Scheme:    pick(g, []string{"http", "https"}),
		Host:      pick(g, diffHosts),
		PathStyle: g.rng.IntN(4) == 0,
	}
	if g.rng.IntN(3) == 0 {
		cfg.Credentials.AccessKeyID = "ASIA" + cfg.Credentials.AccessKeyID[4:]
		cfg.Credentials.SessionToken = g.word("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=", 1+g.rng.IntN(400))
	}
	if g.rng.IntN(8) == 0 {
		cfg.Service = pick(g, []string{"s3", "s3-object-lambda", "service"})
	}
	if g.rng.IntN(8) == 0 {
		cfg.PayloadHash = g.word("0123456789abcdef", 64)
	}
	return cfg
}

// request returns a random valid request at the fixed clock.
func (g *gen) request() Request {
	r := Request{
		Method:  pick(g, diffMethods),
		Bucket:  pick(g, diffBuckets),
		Key:     g.key(),
		Time:    diffTime,
		Expires: time.Duration(1+g.rng.IntN(604800))*time.Second + time.Duration(g.rng.IntN(1e9)),
	}
	if g.rng.IntN(20) == 0 {
		r.Bucket = g.word("abcdefghijklmnopqrstuvwxyz0123456789.-", 1+g.rng.IntN(70))
	}

	switch r.Method {
	case "GET", "HEAD":
		if g.rng.IntN(3) == 0 {
			r.ResponseContentType = g.text(40)
		}
		if g.rng.IntN(3) == 0 {
			r.ResponseContentDisposition = `attachment; filename="` + g.text(40) + `"`
		}
	case "PUT":
		if g.rng.IntN(2) == 0 {
			r.ContentType = g.headerValue()
		}
	}
	if g.rng.IntN(6) == 0 {
		r.Query = g.params()
	}
	if g.rng.IntN(6) == 0 {
		r.Headers = g.headers()
	}
	return r
}

// key returns 1 to 300 bytes of random runes and awkward pieces; one key
// in 50 is random bytes, UTF-8 or not.
func (g *gen) key() string {
	if g.rng.IntN(50) == 0 {
		b := make([]byte, 1+g.rng.IntN(64))
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return string(b)
	}

	var b strings.Builder
	for n := 1 + g.rng.IntN(40); b.Len() < 300 && n > 0; n-- {
		switch g.rng.IntN(3) {
		case 0:
			b.WriteString(pick(g, keyPieces))
		case 1:
			b.WriteString(g.word("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~", 1+g.rng.IntN(12)))
		default:
			b.WriteRune(g.rune())
		}
	}
	return b.String()
}

// rune returns a random valid rune, from ASCII to the astral planes.
func (g *gen) rune() rune {
	for {
		var r rune
		switch g.rng.IntN(4) {
		case 0:
			r = rune(0x20 + g.rng.IntN(0x5f))
		case 1:
			r = rune(0x80 + g.rng.IntN(0x780))
		case 2:
			r = rune(0x800 + g.rng.IntN(0xf800))
		default:
			r = rune(0x10000 + g.rng.IntN(0x100000))
		}
		if utf8.ValidRune(r) {
			return r
		}
	}
}

// text returns up to n random printable runes, quotes and spaces included.
func (g *gen) text(n int) string {
	var b strings.Builder
	for range 1 + g.rng.IntN(n) {
		if g.rng.IntN(4) == 0 {
			b.WriteString(pick(g, keyPieces[4:40]))
			continue
		}
		b.WriteRune(g.rune())
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, b.String())
}

// headerValue returns a header value: printable text with runs of spaces
// and tabs, at the ends too.
func (g *gen) headerValue() string {
	pad := []string{"", " ", "  ", "\t", " \t "}
	mid := strings.ReplaceAll(g.text(30), "e", pick(g, []string{"e", "  ", " \t "}))
	return pick(g, pad) + mid + pick(g, pad)
}

// params returns 1 to 3 extra query parameters, names repeated at times.
func (g *gen) params() []Param {
	var ps []Param
	for range 1 + g.rng.IntN(3) {
		name := g.text(10)
		if len(ps) > 0 && g.rng.IntN(3) == 0 {
			name = ps[0].Name
		}
		if reservedName(name) {
			name = "p" + name
		}
		value := ""
		if g.rng.IntN(5) > 0 {
			value = g.text(20)
		}
		ps = append(ps, Param{Name: name, Value: value})
	}
	return ps
}

// reservedName reports whether the engine sets a parameter of this name.
func reservedName(name string) bool {
	return slices.ContainsFunc(reservedParams, func(p string) bool { return strings.EqualFold(p, name) })
}

// headers returns 1 to 3 extra headers, names repeated in another case at
// times.
func (g *gen) headers() []Header {
	var hs []Header
	for range 1 + g.rng.IntN(3) {
		hs = append(hs, Header{Name: pick(g, diffHeaderNames), Value: g.headerValue()})
	}
	return hs
}

// word returns n bytes drawn from alphabet.
func (g *gen) word(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// pick returns a random element of list.
func pick[T any](g *gen, list []T) T { return list[g.rng.IntN(len(list))] }
