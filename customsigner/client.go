// Package customsigner asks a connection's custom URL signer, the team's own
// HTTP service, for signed URLs on behalf of each caller. It follows the
// protocol of mediasign's design (GET {base}/{bucket}/?key=...&method=get,
// the caller's JWT or session cookie, JSON {"url": ...} back) and keeps a
// slow or broken signer from slowing mediasign down: no redirects, a total
// timeout, a body limit, bounded retries, a circuit breaker, a concurrency
// limit, coalescing of identical requests and, when the connection opts in,
// the batch extension.
package customsigner

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/mediasign/mediasign"
)

// Options holds what the clients of custom URL signers need besides their
// settings.
type Options struct {
	Clock   mediasign.Clock
	Logger  *slog.Logger
	Metrics *Metrics

	// Transport sends the requests; nil means a transport made for signers:
	// no proxy, idle connections kept for every concurrent call.
	Transport http.RoundTripper
}

// Client asks one connection's custom URL signer for URLs. It is safe for
// concurrent use.
type Client struct {
	conn    string // the connection's name, for logs and metrics
	cfg     mediasign.SignerConfig
	timeout time.Duration
	http    *http.Client
	clock   mediasign.Clock
	logger  *slog.Logger
	metrics *Metrics

	breaker *breaker
	slots   chan struct{}
	flights singleflight.Group

	batch    *batcher    // nil unless the connection opted in
	batchOff atomic.Bool // the signer turned out not to speak the extension
}

// New returns a client for the signer of the connection called conn.
func New(conn string, cfg mediasign.SignerConfig, opts Options) (*Client, error) {
	if err := ValidateConfig(&cfg); err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Transport == nil {
		opts.Transport = newTransport(cfg.MaxConcurrency)
	}

	c := &Client{conn: conn, cfg: cfg, timeout: timeoutOf(&cfg), clock: opts.Clock,
		logger: opts.Logger.With("connection", conn), metrics: opts.Metrics,
		slots: make(chan struct{}, cfg.MaxConcurrency)}
	c.http = &http.Client{Transport: opts.Transport,
		// A redirect would carry the caller's credential to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c.breaker = newBreaker(opts.Clock, func(s breakerState) { c.metrics.breaker(conn, s) })
	if cfg.Batch {
		c.batch = newBatcher(c)
	}
	return c, nil
}

// newTransport returns a transport that keeps an idle connection for each
// call that may be in flight and never goes through a proxy: the caller's
// credential goes to the signer and nowhere else.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext: (&net.Dialer{Timeout: 5 * time.Second,
			KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           conns,
		MaxIdleConnsPerHost:    conns,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// Close drops the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Config returns the validated settings of the client.
func (c *Client) Config() mediasign.SignerConfig { return c.cfg }

// Sign asks the signer for one URL on behalf of the caller of ctx, or with
// the service token when the caller is not a user. Identical concurrent
// requests share one call. Errors carry a public message: 403 when the
// signer refuses, 409 for an upload whose object exists, 502 otherwise.
func (c *Client) Sign(ctx context.Context, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	id, err := identify(ctx, &c.cfg)
	if err != nil {
		return mediasign.SignedURL{}, err
	}

	ch := c.flights.DoChan(flightKey(id, req), func() (any, error) {
		// The call is shared: one caller giving up must not fail the others.
		shared, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		return c.sign(shared, id, req)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return mediasign.SignedURL{}, res.Err
		}
		return res.Val.(mediasign.SignedURL), nil
	case <-ctx.Done():
		return mediasign.SignedURL{}, ctx.Err()
	}
}

// flightKey identifies identical requests.
func flightKey(id identity, req mediasign.SignRequest) string {
	return id.key() + "\x00" + string(req.Method) + "\x00" + req.Bucket + "\x00" + req.Key +
		"\x00" + req.ContentType + "\x00" + strconv.FormatInt(int64(req.Expires), 10)
}

func (c *Client) sign(ctx context.Context, id identity,
	req mediasign.SignRequest) (mediasign.SignedURL, error) {
	if c.batch != nil && !c.batchOff.Load() {
		return c.batch.submit(ctx, id, req)
	}

	release, err := c.acquire(ctx)
	if err != nil {
		return mediasign.SignedURL{}, err
	}
	defer release()
	return c.single(ctx, id, req)
}

// acquire waits for a free call slot, as long as ctx allows.
func (c *Client) acquire(ctx context.Context) (func(), error) {
	select {
	case c.slots <- struct{}{}:
		return func() { <-c.slots }, nil
	case <-ctx.Done():
		c.metrics.result(c.conn, resultError, 1)
		return nil, failed("waited for a free call slot until the timeout", ctx.Err())
	}
}

// single makes one call, with retries, for one key.
func (c *Client) single(ctx context.Context, id identity,
	req mediasign.SignRequest) (mediasign.SignedURL, error) {
	if ok, wait := c.breaker.allow(); !ok {
		c.metrics.result(c.conn, resultBreakerOpen, 1)
		return mediasign.SignedURL{}, breakerOpen(wait)
	}

	start := time.Now()
	build := func(ctx context.Context) (*http.Request, error) {
		return newSignRequest(ctx, c.cfg.URL, id, req)
	}
	o := c.withRetries(ctx, build, MaxAnswerBytes)
	u, label, v, err := c.judge(o, req)
	c.breaker.done(v)

	elapsed := time.Since(start)
	c.metrics.call(c.conn, 1, elapsed.Seconds())
	c.metrics.result(c.conn, label, 1)
	c.logCall(ctx, o, label, 1, elapsed, err)
	return u, err
}

// judge turns the outcome of a single call into a URL or an error, with the
// result label and the verdict on the signer's health.
func (c *Client) judge(o outcome, req mediasign.SignRequest) (
	mediasign.SignedURL, string, verdict, error) {
	switch {
	case o.err != nil:
		return mediasign.SignedURL{}, resultError, o.verdict, failed("call the signer", o.err)
	case o.status == http.StatusOK:
		a, err := decodeAnswer(o.body)
		if err != nil {
			return mediasign.SignedURL{}, resultError, unhealthy, failed("read the answer", err)
		}
		u, err := c.accept(a, req)
		if err != nil {
			return mediasign.SignedURL{}, resultError, unhealthy, err
		}
		return u, resultOK, healthy, nil
	}
	label, err := statusResult(o.status, req.Method)
	return mediasign.SignedURL{}, label, o.verdict, err
}

// statusResult maps a status other than 200 to the caller's error.
func statusResult(status int, m mediasign.Method) (string, error) {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return resultRefused, refused()
	case status == http.StatusConflict && m == mediasign.MethodPut:
		return resultConflict, conflict()
	case status == http.StatusBadRequest:
		return resultRefused, malformed()
	case status == http.StatusNotFound:
		return resultRefused, notFound()
	case status == http.StatusTooManyRequests:
		return resultError, busy()
	case status >= 300 && status < 400:
		return resultError, failed("call the signer", errRedirect)
	}
	return resultError, failed("call the signer", statusError(status))
}

// accept checks a successful answer and counts an assumed expiry.
func (c *Client) accept(a answer, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	u, assumed, err := signed(a, req, c.clock.Now())
	var long tooLong
	if errors.As(err, &long) {
		return mediasign.SignedURL{}, uploadTooLong(long)
	}
	if err != nil {
		return mediasign.SignedURL{}, failed("check the answer", err)
	}
	if assumed {
		c.metrics.assumedExpiry(c.conn)
	}
	return u, nil
}

// logCall writes one line per call that did not sign: a warning for
// failures, debug for refusals. It never holds a credential, a key or a
// URL.
func (c *Client) logCall(ctx context.Context, o outcome, label string, keys int,
	elapsed time.Duration, err error) {
	attrs := []slog.Attr{slog.String("result", label), slog.Int("status", o.status),
		slog.Int("attempts", o.attempts), slog.Int("keys", keys),
		slog.Duration("duration", elapsed)}
	switch label {
	case resultOK:
		c.logger.LogAttrs(ctx, slog.LevelDebug, "signer call", attrs...)
	case resultError:
		attrs = append(attrs, slog.String("error", err.Error()))
		c.logger.LogAttrs(ctx, slog.LevelWarn, "signer call failed", attrs...)
	default:
		c.logger.LogAttrs(ctx, slog.LevelDebug, "signer call refused", attrs...)
	}
}
