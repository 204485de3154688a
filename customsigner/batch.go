package customsigner

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/mediasign/mediasign"
)

// batchMax is the most keys one call of the batch extension carries.
const batchMax = 100

// batchBytesPerKey is how much of a batch answer each key may take, on top
// of MaxAnswerBytes.
const batchBytesPerKey = 8 << 10

// batchGroup holds the keys that may share a call: same credential, bucket,
// method and validity asked.
type batchGroup struct {
	identity string
	bucket   string
	method   mediasign.Method
	expires  time.Duration
}

// pending is one key waiting for its result.
type pending struct {
	id  identity
	req mediasign.SignRequest
	out chan batchResult
}

type batchResult struct {
	url mediasign.SignedURL
	err error
}

// batcher merges concurrent requests into calls of the batch extension.
// Each group is drained by one goroutine that takes whatever has queued
// whenever a call slot is free: with slots to spare a key goes out at once,
// and while every slot is busy keys gather into the next call. A key alone
// goes out as a plain single call.
type batcher struct {
	c *Client

	mu      sync.Mutex
	queues  map[batchGroup][]*pending
	running map[batchGroup]bool
}

func newBatcher(c *Client) *batcher {
	return &batcher{c: c, queues: make(map[batchGroup][]*pending),
		running: make(map[batchGroup]bool)}
}

// submit queues one key and waits for its result or the end of ctx.
func (b *batcher) submit(ctx context.Context, id identity,
	req mediasign.SignRequest) (mediasign.SignedURL, error) {
	p := &pending{id: id, req: req, out: make(chan batchResult, 1)}
	g := batchGroup{identity: id.key(), bucket: req.Bucket, method: req.Method,
		expires: req.Expires}

	b.mu.Lock()
	b.queues[g] = append(b.queues[g], p)
	start := !b.running[g]
	b.running[g] = true
	b.mu.Unlock()
	if start {
		go b.drain(g)
	}

	select {
	case r := <-p.out:
		return r.url, r.err
	case <-ctx.Done():
		return mediasign.SignedURL{}, failed("wait for a batch call", ctx.Err())
	}
}

// drain sends the queued keys of g until none are left.
func (b *batcher) drain(g batchGroup) {
	for {
		b.c.slots <- struct{}{}
		items := b.take(g)
		if items == nil {
			<-b.c.slots
			return
		}
		go b.run(items)
	}
}

// take removes up to batchMax keys from the queue of g, or marks the group
// idle when it is empty.
func (b *batcher) take(g batchGroup) []*pending {
	b.mu.Lock()
	defer b.mu.Unlock()

	q := b.queues[g]
	if len(q) == 0 {
		delete(b.queues, g)
		delete(b.running, g)
		return nil
	}
	n := min(len(q), batchMax)
	b.queues[g] = q[n:]
	return q[:n:n]
}

// run makes the call for items while holding a slot, then hands out the
// results. When the signer does not speak the extension, each key is asked
// on its own.
func (b *batcher) run(items []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), b.c.timeout)
	defer cancel()

	if len(items) == 1 {
		p := items[0]
		u, err := b.c.single(ctx, p.id, p.req)
		<-b.c.slots
		p.out <- batchResult{url: u, err: err}
		return
	}

	results, unsupported := b.c.batchCall(ctx, items)
	<-b.c.slots
	if unsupported {
		for _, p := range items {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), b.c.timeout)
				defer cancel()
				u, err := b.c.sign(ctx, p.id, p.req)
				p.out <- batchResult{url: u, err: err}
			}()
		}
		return
	}
	for i, p := range items {
		p.out <- results[i]
	}
}

// batchCall signs items in one call of the batch extension. It reports
// unsupported when the signer answers 404, 405 or 501, and then stops using
// the extension.
func (c *Client) batchCall(ctx context.Context, items []*pending) ([]batchResult, bool) {
	if ok, wait := c.breaker.allow(); !ok {
		c.metrics.result(c.conn, resultBreakerOpen, len(items))
		return fill(len(items), batchResult{err: breakerOpen(wait)}), false
	}

	first := items[0]
	body := make([]batchItem, len(items))
	for i, p := range items {
		body[i] = batchItem{Key: p.req.Key, ContentType: p.req.ContentType}
	}
	build := func(ctx context.Context) (*http.Request, error) {
		return newBatchRequest(ctx, c.cfg.URL, first.id, first.req.Bucket, first.req.Method,
			first.req.Expires, body)
	}

	start := time.Now()
	o := c.withRetries(ctx, build, MaxAnswerBytes+int64(len(items))*batchBytesPerKey)
	if o.err == nil && unsupportedStatus(o.status) {
		c.breaker.done(healthy)
		c.batchOff.Store(true)
		c.logger.WarnContext(ctx, "signer does not support the batch extension; asking key by key",
			"status", o.status)
		return nil, true
	}

	results, v := c.judgeBatch(o, items)
	c.breaker.done(v)
	elapsed := time.Since(start)
	c.metrics.call(c.conn, len(items), elapsed.Seconds())
	c.logBatch(ctx, o, results, elapsed)
	return results, false
}

func unsupportedStatus(code int) bool {
	return code == http.StatusNotFound || code == http.StatusMethodNotAllowed ||
		code == http.StatusNotImplemented
}

// judgeBatch turns the outcome of a batch call into one result per item.
func (c *Client) judgeBatch(o outcome, items []*pending) ([]batchResult, verdict) {
	n := len(items)
	m := items[0].req.Method
	switch {
	case o.err != nil:
		return c.fillFailed(n, failed("call the signer", o.err)), o.verdict
	case o.status != http.StatusOK:
		label, err := statusResult(o.status, m)
		c.metrics.result(c.conn, label, n)
		return fill(n, batchResult{err: err}), o.verdict
	}

	answers, err := decodeBatch(o.body, n)
	if err != nil {
		return c.fillFailed(n, failed("read the batch answer", err)), unhealthy
	}
	out := make([]batchResult, n)
	for i, a := range answers {
		out[i] = c.itemResult(a, items[i].req)
	}
	return out, healthy
}

// itemResult judges one entry of a batch answer.
func (c *Client) itemResult(a answer, req mediasign.SignRequest) batchResult {
	if a.Status != 0 && a.Status != http.StatusOK {
		label, err := statusResult(a.Status, req.Method)
		c.metrics.result(c.conn, label, 1)
		return batchResult{err: err}
	}
	u, err := c.accept(a, req)
	if err != nil {
		c.metrics.result(c.conn, resultError, 1)
		return batchResult{err: err}
	}
	c.metrics.result(c.conn, resultOK, 1)
	return batchResult{url: u}
}

func (c *Client) fillFailed(n int, err error) []batchResult {
	c.metrics.result(c.conn, resultError, n)
	return fill(n, batchResult{err: err})
}

func fill(n int, r batchResult) []batchResult {
	out := make([]batchResult, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// logBatch writes a warning for a batch call in which keys failed.
func (c *Client) logBatch(ctx context.Context, o outcome, results []batchResult, elapsed time.Duration) {
	var firstErr error
	failures := 0
	for _, r := range results {
		if r.err != nil && mediasign.ErrorCode(r.err) == mediasign.CodeBadGateway {
			failures++
			if firstErr == nil {
				firstErr = r.err
			}
		}
	}
	label := resultOK
	if failures > 0 {
		label = resultError
	}
	c.logCall(ctx, o, label, len(results), elapsed, firstErr)
}
