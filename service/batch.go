package service

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/urlcache"
)

// BatchOptions configures a MediaSigner.
type BatchOptions struct {
	// Extra is the validity beyond the cache minimum M that every URL must
	// have when a batch returns it: each batch asks for URLs valid until
	// its start + M + Extra, and signs again cached URLs that expire
	// sooner.
	Extra time.Duration

	// Workers resolve the URLs of one batch side by side; GOMAXPROCS when
	// zero.
	Workers int

	// Persistent looks in the persistent cache tier too, and writes new
	// URLs to it behind the batches, so the API hands out the same URLs
	// later. On SQLite a lookup costs about 3 µs and a write about 4 µs a
	// URL, against 1.5 µs for mediasign's own presign: it pays off only
	// where signing is a network call, so the URLs of custom URL signers
	// go through the persistent tier whatever this says.
	Persistent bool

	// CredentialUntil is when the credential of the caller in the
	// MediaSigner's context ends. Until shortly before then, custom URL
	// signers are asked on the caller's behalf; after it, with the
	// connection's service token. Zero means the expiry is unknown: the
	// credential counts as valid at the start only.
	CredentialUntil time.Time
}

// credentialMargin is how long before its expiry a credential stops being
// forwarded, so that it is still valid when the signer checks it.
const credentialMargin = time.Minute

// signerFanOut is how many chunks the URLs of custom signers in one batch
// are resolved in at once. The signer client bounds the calls in flight
// and merges the keys waiting for a call into calls of the batch extension.
const signerFanOut = 512

// BatchStats counts where the URLs of a MediaSigner came from.
type BatchStats struct {
	Cached int64 // from either cache tier
	Signed int64 // newly signed
	Kept   int64 // written to the persistent tier
}

// MediaSigner resolves the URLs of many media files at once, for exports:
// a pool of workers takes each batch through the URL cache, and new URLs
// are written to the persistent tier while the next batch is signed. It
// holds no more than one batch.
type MediaSigner struct {
	svc    *Service
	opts   BatchOptions
	keeper *urlcache.Keeper
	start  time.Time
	user   bool // the caller is a user with a credential
	cached atomic.Int64
	signed atomic.Int64
}

// NewMediaSigner returns a MediaSigner. The caller must Close it.
func (s *Service) NewMediaSigner(ctx context.Context, opts BatchOptions) *MediaSigner {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	c, _ := mediasign.CallerFrom(ctx)
	return &MediaSigner{svc: s, opts: opts, keeper: s.cache.NewKeeper(ctx), start: s.clock.Now(),
		user: c.UserID != 0 && c.Credential != ""}
}

// Close waits for the new URLs to be written and returns the counts.
func (m *MediaSigner) Close() BatchStats {
	return BatchStats{Cached: m.cached.Load(), Signed: m.signed.Load(), Kept: m.keeper.Close()}
}

// wanted is one URL of a batch: the original or the thumbnail of a media
// file.
type wanted struct {
	ref   *mediasign.MediaRef
	key   string
	thumb bool
}

// Sign puts in out[i] the URLs of refs[i] and of its thumbnail, each valid
// for at least M + Extra from now. URLs of connections with a custom URL
// signer are asked for on behalf of the requester while their credential
// lasts, and with the connection's service token after that. It fails on
// the first URL that cannot be had.
func (m *MediaSigner) Sign(ctx context.Context, refs []mediasign.MediaRef, out []MediaURLs) error {
	if len(out) != len(refs) {
		return fmt.Errorf("sign media batch: %d results for %d files", len(out), len(refs))
	}
	now := m.svc.clock.Now()
	atLeast := now.Add(m.svc.cache.Policy().MinValid + m.opts.Extra)
	ctx, forwarded := m.signerContext(ctx, now)

	want := make([]wanted, 0, len(refs)+len(refs)/4)
	for i := range refs {
		want = append(want, wanted{ref: &refs[i], key: refs[i].Key})
		if refs[i].ThumbKey != "" {
			want = append(want, wanted{ref: &refs[i], key: refs[i].ThumbKey, thumb: true})
		}
	}
	conns, err := m.open(ctx, want, forwarded)
	if err != nil {
		return err
	}

	keys := make([]string, len(want))
	for i, w := range want {
		keys[i] = cacheKey(conns[refConn(w.ref)].scope, w.ref.ConnectionID,
			w.ref.ConnectionRevision, mediasign.MethodGet, w.ref.Bucket, w.key)
	}
	results := make([]urlcache.Result, len(want))
	if err := m.resolve(ctx, want, conns, atLeast, keys, results); err != nil {
		return err
	}

	m.fill(refs, want, results, out)
	m.keep(want, conns, keys, results)
	return nil
}

// signerContext returns ctx as custom URL signers see it at now: with the
// requester's credential while it lasts, and without it, so that the
// service token signs, after that. It reports whether the credential is
// forwarded.
func (m *MediaSigner) signerContext(ctx context.Context, now time.Time) (context.Context, bool) {
	c, ok := mediasign.CallerFrom(ctx)
	if !ok || c.Credential == "" {
		return ctx, false
	}
	if m.credentialLasts(now) {
		return ctx, true
	}
	c.Credential = ""
	return mediasign.WithCaller(ctx, c), false
}

// credentialLasts reports whether the requester's credential may still be
// forwarded at now: until credentialMargin before its expiry, or, when the
// expiry is unknown, only at the start.
func (m *MediaSigner) credentialLasts(now time.Time) bool {
	if m.opts.CredentialUntil.IsZero() {
		return !now.After(m.start)
	}
	return now.Add(credentialMargin).Before(m.opts.CredentialUntil)
}

// open opens each connection of want once, and refuses a custom signer
// connection that could be asked with neither the requester's credential
// nor a service token.
func (m *MediaSigner) open(ctx context.Context, want []wanted,
	forwarded bool) (map[connRef]*batchConn, error) {
	conns := make(map[connRef]*batchConn)
	for _, w := range want {
		if _, ok := conns[refConn(w.ref)]; ok {
			continue
		}
		c, st, err := m.svc.storageOf(ctx, w.ref)
		if err != nil {
			return nil, err
		}
		if err := m.canSign(c, forwarded); err != nil {
			return nil, err
		}
		conns[refConn(w.ref)] = &batchConn{conn: c, storage: st, scope: cacheScope(ctx, c, st),
			custom: c.Signer != nil}
	}
	return conns, nil
}

// canSign refuses a custom signer connection without a service token when
// the requester's credential is not forwarded.
func (m *MediaSigner) canSign(c *mediasign.Connection, forwarded bool) error {
	if c.Signer == nil || forwarded || c.Signer.ServiceToken != "" {
		return nil
	}
	why := "it was started without a signed-in user"
	if m.user {
		why = "the credential of the user who started it has ended"
	}
	return &mediasign.Error{Code: mediasign.CodeInvalid,
		Message: fmt.Sprintf("connection %q signs its URLs with a custom URL signer, and this "+
			"export has no identity to ask it with: %s, and the connection has no signer "+
			"service_token: give the connection a service_token that its signer accepts, "+
			"or start the export again as a signed-in user", c.Name, why)}
}

// resolve splits want among goroutines and waits for them: the URLs that
// mediasign signs itself among the workers, and the URLs of custom signers
// in many small chunks, so that the signer client has every key in hand to
// coalesce and batch.
func (m *MediaSigner) resolve(ctx context.Context, want []wanted, conns map[connRef]*batchConn,
	atLeast time.Time, keys []string, results []urlcache.Result) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var plain, custom []int
	for i, w := range want {
		if conns[refConn(w.ref)].custom {
			custom = append(custom, i)
		} else {
			plain = append(plain, i)
		}
	}
	chunks := split(plain, m.opts.Workers)
	chunks = append(chunks, split(custom, signerFanOut)...)

	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	for n, idx := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[n] = m.resolveChunk(ctx, want, conns, idx, atLeast, keys, results)
			if errs[n] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return firstError(errs)
}

// split cuts idx into at most parts chunks of nearly equal length.
func split(idx []int, parts int) [][]int {
	if len(idx) == 0 {
		return nil
	}
	per := (len(idx) + parts - 1) / parts
	var out [][]int
	for lo := 0; lo < len(idx); lo += per {
		out = append(out, idx[lo:min(lo+per, len(idx))])
	}
	return out
}

// resolveChunk resolves the URLs at positions idx through the cache.
func (m *MediaSigner) resolveChunk(ctx context.Context, want []wanted,
	conns map[connRef]*batchConn, idx []int, atLeast time.Time, keys []string,
	results []urlcache.Result) error {
	ks := make([]string, len(idx))
	for n, i := range idx {
		ks[n] = keys[i]
	}
	rs := make([]urlcache.Result, len(idx))

	sign := func(ctx context.Context, n int, validFor time.Duration) (mediasign.SignedURL, error) {
		w := want[idx[n]]
		bc := conns[refConn(w.ref)]
		req := mediasign.SignRequest{Bucket: w.ref.Bucket, Key: w.key, Method: mediasign.MethodGet,
			Expires: validFor}
		return m.svc.signOn(ctx, bc.conn, bc.storage, req)
	}
	store := m.opts.Persistent || conns[refConn(want[idx[0]].ref)].custom
	opts := urlcache.BatchOptions{AtLeast: atLeast, Store: store}
	if err := m.svc.cache.GetBatch(ctx, ks, opts, sign, rs); err != nil {
		return m.batchError(want, idx, conns, err)
	}

	for n, i := range idx {
		results[i] = rs[n]
	}
	m.count(rs)
	return nil
}

// connRef names one revision of a connection.
type connRef struct{ id, revision int64 }

func refConn(ref *mediasign.MediaRef) connRef {
	return connRef{id: ref.ConnectionID, revision: ref.ConnectionRevision}
}

// batchConn is an open connection as one batch uses it.
type batchConn struct {
	conn    *mediasign.Connection
	storage mediasign.Storage

	// scope is the cache scope of the batch's caller on this connection,
	// as single URLs have it.
	scope  string
	custom bool
}

// keep queues the new URLs for the persistent tier: all of them when the
// MediaSigner is persistent, and those of custom signers always, since a
// signer call costs far more than a database write.
func (m *MediaSigner) keep(want []wanted, conns map[connRef]*batchConn, keys []string,
	results []urlcache.Result) {
	if m.opts.Persistent {
		m.keeper.Keep(keys, results)
		return
	}
	var ks []string
	var rs []urlcache.Result
	for i, w := range want {
		if conns[refConn(w.ref)].custom {
			ks, rs = append(ks, keys[i]), append(rs, results[i])
		}
	}
	if len(ks) > 0 {
		m.keeper.Keep(ks, rs)
	}
}

// batchError explains a URL that fell short with the connection it came
// from and what to do.
func (m *MediaSigner) batchError(want []wanted, idx []int, conns map[connRef]*batchConn,
	err error) error {
	var short *urlcache.ShortURLError
	if !errors.As(err, &short) || short.Index >= len(idx) {
		return err
	}
	bc := conns[refConn(want[idx[short.Index]].ref)]
	until := short.AtLeast.UTC().Format(time.RFC3339)
	expires := short.ExpiresAt.UTC().Format(time.RFC3339)
	msg := fmt.Sprintf("connection %q cannot sign URLs that stay valid until %s: its URLs "+
		"expire at %s (the provider's limit or the credentials' expiry): renew the "+
		"connection's credentials, or lower %s", bc.conn.Name, until, expires,
		urlcache.EnvMinimumValid)
	if bc.custom {
		msg = fmt.Sprintf("connection %q cannot keep URLs valid until %s: its custom URL "+
			"signer answers with URLs that expire at %s: make the signer sign URLs valid for "+
			"at least %s, or lower %s", bc.conn.Name, until, expires,
			seconds(m.svc.cache.Policy().NewValid), urlcache.EnvMinimumValid)
	}
	return &mediasign.Error{Code: mediasign.CodeUnavailable, Err: short, Message: msg}
}

func (m *MediaSigner) count(results []urlcache.Result) {
	var signed int64
	for _, r := range results {
		if r.Source == urlcache.FromSigner {
			signed++
		}
	}
	m.signed.Add(signed)
	m.cached.Add(int64(len(results)) - signed)
}

// fill copies the resolved URLs into out, by media file.
func (m *MediaSigner) fill(refs []mediasign.MediaRef, want []wanted, results []urlcache.Result,
	out []MediaURLs) {
	j := 0
	for i := range refs {
		out[i] = MediaURLs{ID: refs[i].ID, URL: results[j].URL, ExpiresAt: results[j].ExpiresAt}
		j++
		if j < len(want) && want[j].thumb && want[j].ref == &refs[i] {
			out[i].ThumbURL, out[i].ThumbExpiresAt = results[j].URL, results[j].ExpiresAt
			j++
		}
	}
}

// firstError returns the first error that is not the cancellation the
// first failing worker caused in the others.
func firstError(errs []error) error {
	var canceled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			canceled = err
		default:
			return err
		}
	}
	return canceled
}
