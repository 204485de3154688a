package customsigner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/mediasign/mediasign"
)

// Retries: at most maxAttempts calls, pausing a random time between half
// and all of backoffBase doubled per attempt, at most backoffCap, and only
// while the total timeout leaves room.
const (
	maxAttempts = 3
	backoffBase = 50 * time.Millisecond
	backoffCap  = time.Second
)

// outcome is what the last attempt of a call got.
type outcome struct {
	status   int    // 0 when no answer came
	body     []byte // read up to the limit
	err      error  // no answer, or an answer that could not be read
	verdict  verdict
	attempts int
}

var (
	errTooLarge = errors.New("answer is larger than the limit")
	errRedirect = errors.New("signer answered with a redirect, which is never followed")
)

// withRetries makes attempts until one gets an answer worth keeping, the
// attempts run out or the time does.
func (c *Client) withRetries(ctx context.Context, build func(context.Context) (*http.Request, error),
	limit int64) outcome {
	for n := 1; ; n++ {
		o := c.attempt(ctx, build, limit)
		o.attempts = n
		if n >= maxAttempts || !retryable(ctx, o) || !pause(ctx, n) {
			return o
		}
	}
}

// retryable reports whether another attempt may get a better answer:
// after a connection error, or a 502, 503 or 504.
func retryable(ctx context.Context, o outcome) bool {
	if ctx.Err() != nil {
		return false
	}
	switch o.status {
	case 0:
		return o.err != nil
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// pause waits before attempt n+1 and reports false when the total timeout
// would end first.
func pause(ctx context.Context, n int) bool {
	d := min(backoffBase<<(n-1), backoffCap)
	d = d/2 + rand.N(d/2+1)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// attempt sends one request and reads at most limit bytes of the answer.
func (c *Client) attempt(ctx context.Context, build func(context.Context) (*http.Request, error),
	limit int64) outcome {
	r, err := build(ctx)
	if err != nil {
		return outcome{err: err, verdict: unjudged}
	}
	resp, err := c.http.Do(r)
	if err != nil {
		return outcome{err: transportError(ctx, err, c.timeout), verdict: unhealthy}
	}
	defer resp.Body.Close()

	body, err := readLimited(resp.Body, limit)
	if err != nil {
		return outcome{status: resp.StatusCode, err: err, verdict: unhealthy}
	}
	o := outcome{status: resp.StatusCode, body: body, verdict: healthy}
	if resp.StatusCode >= 500 {
		o.verdict = unhealthy
	}
	return o
}

// readLimited reads all of r unless it holds more than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", errTooLarge, limit)
	}
	return b, nil
}

// transportError describes a failed request without its URL, which names
// the object.
func transportError(ctx context.Context, err error, timeout time.Duration) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no answer within the timeout of %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("send the request: %w", err)
}

// Errors for callers. Their messages are public; the details are logged.

func refused() error {
	return &mediasign.Error{Code: mediasign.CodeForbidden,
		Message: "the storage's custom URL signer refused to sign this URL for you"}
}

func malformed() error {
	return &mediasign.Error{Code: mediasign.CodeInvalid,
		Message: "the signer refused this request as malformed: check the key, or ask the " +
			"signer's team which keys it accepts"}
}

func notFound() error {
	return &mediasign.Error{Code: mediasign.CodeNotFound,
		Message: "the storage's custom URL signer knows no such object or bucket"}
}

func busy() error {
	return &mediasign.Error{Code: mediasign.CodeBadGateway,
		Message: "the storage's custom URL signer is getting too many requests: try again " +
			"in a moment",
		Err: statusError(http.StatusTooManyRequests)}
}

func uploadTooLong(e tooLong) error {
	return &mediasign.Error{Code: mediasign.CodeBadGateway,
		Message: fmt.Sprintf("the storage's custom URL signer returned an upload URL that stays "+
			"valid until %s, longer than the %d s asked, so mediasign did not hand it out: ask "+
			"the signer's team to honour the expires parameter", e.until.Format(time.RFC3339),
			int64(e.asked/time.Second)),
		Err: e}
}

func conflict() error {
	return &mediasign.Error{Code: mediasign.CodeConflict,
		Message: "an object with this key already exists: upload under another key"}
}

func failed(step string, err error) error {
	return &mediasign.Error{Code: mediasign.CodeBadGateway,
		Message: "the storage's custom URL signer gave no usable answer: try again in a moment",
		Err:     fmt.Errorf("%s: %w", step, err)}
}

func breakerOpen(wait time.Duration) error {
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	return &mediasign.Error{Code: mediasign.CodeBadGateway,
		Message: fmt.Sprintf("the storage's custom URL signer keeps failing, so mediasign "+
			"stopped asking it for a moment: try again in %d s", secs),
		Err: errors.New("circuit breaker open")}
}

func httpStatusText(code int) string { return http.StatusText(code) }
