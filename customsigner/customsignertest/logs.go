package customsignertest

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Logs collects the lines of concurrent loggers.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger returns a debug-level text logger that writes to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// MustNotHold fails the test when any of the secrets appears in the logs.
func (l *Logs) MustNotHold(t testing.TB, secrets ...string) {
	t.Helper()
	text := l.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("the logs hold a secret (%d bytes starting %.6q)", len(s), s)
		}
	}
}
