package customsignertest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// Signer is a custom URL signer on loopback whose behaviour a test sets. It
// counts every request it gets and keeps their headers.
type Signer struct {
	*httptest.Server

	calls   atomic.Int64
	mu      sync.Mutex
	handler http.HandlerFunc
	seen    []Request
}

// Request is what a Signer received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
}

// NewSigner starts a signer that answers with h until told otherwise.
func NewSigner(t testing.TB, h http.HandlerFunc) *Signer {
	t.Helper()
	s := &Signer{handler: h}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Signer) serve(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	s.mu.Lock()
	s.seen = append(s.seen, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone()})
	h := s.handler
	s.mu.Unlock()
	h(w, r)
}

// Calls returns how many requests the signer got.
func (s *Signer) Calls() int64 { return s.calls.Load() }

// Set replaces the signer's behaviour.
func (s *Signer) Set(h http.HandlerFunc) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Signer) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// Caller names the credential of a request: a short hash of its
// Authorization header or cookies, so URLs can differ per caller without
// holding a credential.
func Caller(r *http.Request) string {
	sum := sha256.Sum256([]byte(r.Header.Get("Authorization") + "|" + r.Header.Get("Cookie")))
	return hex.EncodeToString(sum[:6])
}

// SignedURL is the URL Signs answers for a key and a caller.
func SignedURL(bucket, key, caller string) string {
	return "https://media.example.test/" + url.PathEscape(bucket) + "/" + url.PathEscape(key) +
		"?X-Amz-Signature=sig-" + caller
}

// Signs answers every single and batch request with SignedURL and an
// expiry a week after clock's now.
func Signs(clock mediasign.Clock) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		exp := clock.Now().Add(7 * 24 * time.Hour).UTC()
		bucket := r.PathValue("bucket")
		if bucket == "" {
			bucket = firstSegment(r.URL.Path)
		}
		if r.Method == http.MethodPost {
			answerBatch(w, r, bucket, exp)
			return
		}
		WriteJSON(w, 200, map[string]any{"url": SignedURL(bucket, r.URL.Query().Get("key"),
			Caller(r)), "expires_at": exp})
	}
}

func answerBatch(w http.ResponseWriter, r *http.Request, bucket string, exp time.Time) {
	var req struct {
		Items []struct {
			Key string `json:"key"`
		} `json:"items"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		WriteJSON(w, 400, map[string]string{"error": "bad batch"})
		return
	}
	results := make([]map[string]any, len(req.Items))
	for i, it := range req.Items {
		results[i] = map[string]any{"url": SignedURL(bucket, it.Key, Caller(r)), "expires_at": exp}
	}
	WriteJSON(w, 200, map[string]any{"results": results})
}

func firstSegment(p string) string {
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			return p[1:i]
		}
	}
	return ""
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
