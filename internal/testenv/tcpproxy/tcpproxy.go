// Package tcpproxy is a loopback TCP proxy that a test can cut, to see how
// mediasign behaves when a database or cache stops answering.
package tcpproxy

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Mode says what the proxy does with connections.
type Mode int

// Modes of a proxy.
const (
	// Pass forwards connections to the target.
	Pass Mode = iota

	// Drop closes every connection, open or new, as a server that went
	// away would.
	Drop

	// Stall holds new connections without answering and stops forwarding
	// on open ones, as a network that lost the server would.
	Stall
)

// Proxy forwards a loopback port to a target address.
type Proxy struct {
	// Addr is the address clients connect to.
	Addr string

	target string
	ln     net.Listener

	mu    sync.Mutex
	mode  Mode
	conns map[net.Conn]struct{}
}

// Start starts a proxy to target on a free loopback port; it stops when the
// test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln,
		conns: make(map[net.Conn]struct{})}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// SetMode switches the proxy; Drop and Stall act on open connections too.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	if m == Drop {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *Proxy) currentMode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close()
			continue
		}
		go p.serve(c)
	}
}

// track remembers c unless the proxy drops connections.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == Drop {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *Proxy) serve(c net.Conn) {
	defer p.forget(c)
	defer c.Close()
	if p.currentMode() == Stall {
		// Hold the connection until the test ends or drops it.
		io.Copy(io.Discard, c)
		return
	}

	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(up) {
		up.Close()
		return
	}
	defer p.forget(up)
	defer up.Close()

	done := make(chan struct{}, 2)
	go p.pipe(up, c, done)
	go p.pipe(c, up, done)
	<-done
}

// pipe copies src to dst while the proxy passes traffic; in Stall mode it
// stops copying and waits, holding both ends open.
func (p *Proxy) pipe(dst, src net.Conn, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if p.currentMode() == Stall {
				io.Copy(io.Discard, src)
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.SetMode(Drop)
}
