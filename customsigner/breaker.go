package customsigner

import (
	"sync"
	"time"

	"github.com/mediasign/mediasign"
)

// Breaker settings: after failureThreshold failures in a row the signer is
// not asked for openFor; then one probe call decides whether it is back.
const (
	failureThreshold = 5
	openFor          = 10 * time.Second
)

// breakerState is the state of a circuit breaker, as its metric reports it.
type breakerState int

const (
	stateClosed breakerState = iota
	stateHalfOpen
	stateOpen
)

func (s breakerState) String() string {
	switch s {
	case stateHalfOpen:
		return "half_open"
	case stateOpen:
		return "open"
	}
	return "closed"
}

// verdict is what one call says about the signer's health.
type verdict int

const (
	// healthy: the signer answered as the protocol says, refusals included.
	healthy verdict = iota

	// unhealthy: no answer, a timeout, a 5xx or an unreadable answer.
	unhealthy

	// unjudged: the call never reached the signer.
	unjudged
)

// breaker stops calls to a signer that keeps failing, so callers fail fast
// instead of waiting for timeouts, and lets one probe through after a
// pause. It is safe for concurrent use.
type breaker struct {
	clock    mediasign.Clock
	onChange func(breakerState)

	mu       sync.Mutex
	state    breakerState
	failures int
	openedAt time.Time
	probing  bool
}

func newBreaker(clock mediasign.Clock, onChange func(breakerState)) *breaker {
	b := &breaker{clock: clock, onChange: onChange}
	onChange(stateClosed)
	return b
}

// allow reports whether a call may go to the signer now, and how long the
// breaker stays open when it may not. In the half-open state only one
// probe is let through at a time.
func (b *breaker) allow() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()

	switch b.state {
	case stateOpen:
		waited := b.clock.Now().Sub(b.openedAt)
		if waited < openFor {
			return false, openFor - waited
		}
		b.set(stateHalfOpen)
		b.probing = true
		return true, 0
	case stateHalfOpen:
		if b.probing {
			return false, time.Second
		}
		b.probing = true
	}
	return true, 0
}

// done records the verdict of a call that allow let through.
func (b *breaker) done(v verdict) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.state == stateHalfOpen {
		b.probing = false
		switch v {
		case healthy:
			b.failures = 0
			b.set(stateClosed)
		case unhealthy:
			b.open()
		}
		return
	}
	if b.state != stateClosed {
		return // a call from before the breaker opened
	}
	switch v {
	case healthy:
		b.failures = 0
	case unhealthy:
		b.failures++
		if b.failures >= failureThreshold {
			b.open()
		}
	}
}

func (b *breaker) open() {
	b.openedAt = b.clock.Now()
	b.set(stateOpen)
}

func (b *breaker) set(s breakerState) {
	if b.state != s {
		b.state = s
		b.onChange(s)
	}
}

// current returns the state, for tests and the connection view.
func (b *breaker) current() breakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}
