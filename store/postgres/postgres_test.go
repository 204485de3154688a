package postgres_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/testenv/pgtest"
	"github.com/mediasign/mediasign/internal/testenv/tcpproxy"
	"github.com/mediasign/mediasign/store/postgres"
	"github.com/mediasign/mediasign/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) mediasign.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestReplicasMigrateTogether opens one schema from several processes'
// worth of stores at once: each migration applies once and all open.
func TestReplicasMigrateTogether(t *testing.T) {
	url := pgtest.URL(t)
	const replicas = 6
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 2})
			if err == nil {
				err = s.SetSetting(context.Background(), "replica", "up")
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("replicas opening one schema together: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.DB().ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	if _, err := postgres.Open(ctx, url, postgres.Options{}); err == nil {
		t.Fatal("opened a database whose schema is newer than the build")
	}
}

// TestUnreachableIsUnavailable checks that a database that refuses
// connections, and one that accepts them but never answers, give an
// unavailable error within the connect bound instead of a hang.
func TestUnreachableIsUnavailable(t *testing.T) {
	refused := closedAddr(t)
	silent := silentListener(t)
	for name, addr := range map[string]string{"refused": refused, "silent": silent} {
		t.Run(name, func(t *testing.T) {
			url := "postgres://postgres@" + addr + "/test?sslmode=disable"
			start := time.Now()
			_, err := postgres.Open(context.Background(), url,
				postgres.Options{ConnectTimeout: 500 * time.Millisecond})
			if err == nil {
				t.Fatal("opened a database that does not answer")
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("open took %s, want it bounded by the connect timeout", took)
			}
		})
	}
}

func TestBadURLHidesPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:s3cret@host:notaport/db",
		postgres.Options{})
	if err == nil {
		t.Fatal("opened a malformed URL")
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Fatalf("error shows the password: %s", got)
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentListener accepts connections and never answers them.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestOutageGivesUnavailable cuts the way to the database under an open
// store: calls fail as unavailable, within the caller's deadline, and work
// again once the database is back.
func TestOutageGivesUnavailable(t *testing.T) {
	dbURL := pgtest.URL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := tcpproxy.Start(t, u.Host)
	u.Host = proxy.Addr
	s, err := postgres.Open(context.Background(), u.String(),
		postgres.Options{ConnectTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	for _, mode := range []tcpproxy.Mode{tcpproxy.Drop, tcpproxy.Stall} {
		proxy.SetMode(mode)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		start := time.Now()
		_, err := s.Setting(ctx, "anything")
		cancel()
		if code := mediasign.ErrorCode(err); code != mediasign.CodeUnavailable {
			t.Errorf("mode %d: Setting error %v has code %s, want unavailable", mode, err, code)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("mode %d: Setting took %s, want it bounded by the caller's deadline", mode, took)
		}
		if err := s.Ping(context.Background()); mediasign.ErrorCode(err) != mediasign.CodeUnavailable {
			t.Errorf("mode %d: Ping = %v, want unavailable", mode, err)
		}

		proxy.SetMode(tcpproxy.Pass)
		if err := s.SetSetting(context.Background(), "after", "outage"); err != nil {
			t.Errorf("mode %d: store did not recover: %v", mode, err)
		}
	}
}
