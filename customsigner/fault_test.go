package customsigner_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	cst "github.com/mediasign/mediasign/customsigner/customsignertest"
)

const serviceToken = "svc-token-8c1f0f4e2b"

// faultCase is one way a signer behaves, and what mediasign's caller must
// see for it.
type faultCase struct {
	name    string
	upload  bool // ask for an upload URL instead of a view URL
	timeout int  // signer timeout_ms; 0 means 1000
	handler func(other *httptest.Server, okURL string) http.HandlerFunc

	wantStatus int
	wantCalls  int64
	wantCached bool
	wantOther  int64 // requests the other host got
}

func answer(okURL string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cst.WriteJSON(w, 200, map[string]string{"url": okURL})
	}
}

func statusAnswer(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

var faultCases = []faultCase{
	{name: "good answer", wantStatus: 200, wantCalls: 1, wantCached: true,
		handler: func(_ *httptest.Server, u string) http.HandlerFunc { return answer(u) }},
	{name: "slow but in time", wantStatus: 200, wantCalls: 1, wantCached: true,
		handler: func(_ *httptest.Server, u string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(300 * time.Millisecond)
				answer(u)(w, r)
			}
		}},
	{name: "hanging", timeout: 300, wantStatus: 502, wantCalls: 1,
		handler: func(_ *httptest.Server, u string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
		}},
	{name: "500", wantStatus: 502, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc { return statusAnswer(500) }},
	{name: "503 then 200", wantStatus: 200, wantCalls: 2, wantCached: true,
		handler: func(_ *httptest.Server, u string) http.HandlerFunc {
			var n atomic.Int64
			return func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.WriteHeader(503)
					return
				}
				answer(u)(w, r)
			}
		}},
	{name: "503 every time", wantStatus: 502, wantCalls: 3,
		handler: func(*httptest.Server, string) http.HandlerFunc { return statusAnswer(503) }},
	{name: "garbage JSON", wantStatus: 502, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"url": "ht`)) }
		}},
	{name: "JSON without url", wantStatus: 502, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				cst.WriteJSON(w, 200, map[string]string{"link": "https://x.test/a"})
			}
		}},
	{name: "relative URL", wantStatus: 502, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				cst.WriteJSON(w, 200, map[string]string{"url": "/media/b/a.jpg?sig=1"})
			}
		}},
	{name: "10 MiB body", wantStatus: 502, wantCalls: 1,
		handler: func(_ *httptest.Server, u string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"url":"` + u + `","pad":"`))
				chunk := []byte(strings.Repeat("x", 1<<20))
				for range 10 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
				w.Write([]byte(`"}`))
			}
		}},
	{name: "redirect to another host", wantStatus: 502, wantCalls: 1, wantOther: 0,
		handler: func(other *httptest.Server, _ string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			}
		}},
	{name: "401", wantStatus: 403, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc { return statusAnswer(401) }},
	{name: "403", wantStatus: 403, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc { return statusAnswer(403) }},
	{name: "400", wantStatus: 400, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc { return statusAnswer(400) }},
	{name: "404", wantStatus: 404, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc { return statusAnswer(404) }},
	{name: "400 on PUT", upload: true, wantStatus: 400, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc { return statusAnswer(400) }},
	{name: "PUT valid until 2099", upload: true, wantStatus: 502, wantCalls: 1,
		handler: func(_ *httptest.Server, u string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				cst.WriteJSON(w, 200, map[string]any{"url": u, "expires_at": "2099-01-01T00:00:00Z"})
			}
		}},
	{name: "409 on PUT", upload: true, wantStatus: 409, wantCalls: 1,
		handler: func(*httptest.Server, string) http.HandlerFunc { return statusAnswer(409) }},
	{name: "good PUT", upload: true, wantStatus: 200, wantCalls: 1,
		handler: func(_ *httptest.Server, u string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				cst.WriteJSON(w, 200, map[string]any{"url": u,
					"headers": map[string]string{"x-amz-acl": "private"}})
			}
		}},
}

// TestMisbehavingSigners asks for a URL through mediasign's API, as a
// signed-in editor, from a signer that misbehaves in each way, and checks
// the caller's status and answer, the signer calls, the cache afterwards,
// that the token never went to another host and that no credential or
// signature reached the logs.
func TestMisbehavingSigners(t *testing.T) {
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultFixture(t, tc)
			resp, body := f.ask(tc.upload)

			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.wantStatus)
			}
			f.checkAnswer(resp, body, tc)
			if got := f.signer.Calls(); got != tc.wantCalls {
				t.Errorf("signer calls %d, want %d", got, tc.wantCalls)
			}
			if got := f.other.Load(); got != tc.wantOther {
				t.Errorf("the other host got %d requests, want %d", got, tc.wantOther)
			}
			f.checkCache(tc)
			f.stack.Logs.MustNotHold(t, f.session.ID, serviceToken, "sig-secret-9")
		})
	}
}

type faultFixture struct {
	t       *testing.T
	stack   *cst.Stack
	signer  *cst.Signer
	other   *atomic.Int64
	session cst.Session
	dataset int64
	media   int64
	okURL   string
}

func newFaultFixture(t *testing.T, tc faultCase) *faultFixture {
	t.Helper()
	var otherCalls atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherCalls.Add(1)
	}))
	t.Cleanup(other.Close)

	okURL := "https://bucket.example.test/photos/a%20b%2Bc.jpg?X-Amz-Signature=sig-secret-9&odd=%7e"
	signer := cst.NewSigner(t, tc.handler(other, okURL))
	timeout := tc.timeout
	if timeout == 0 {
		timeout = 1000
	}
	s := cst.NewStack(t, cst.Options{})
	conn := s.AddConnection("media", cst.DummyS3(), &mediasign.SignerConfig{URL: signer.URL,
		ServiceToken: serviceToken, TimeoutMS: timeout})
	ds, ids := s.AddMedia("p", conn, "b", "photos/a b+c.jpg")
	s.AddUser("ed", "", "p", mediasign.RoleEditor)
	return &faultFixture{t: t, stack: s, signer: signer, other: &otherCalls,
		session: s.Login("ed"), dataset: ds, media: ids[0], okURL: okURL}
}

// ask requests the media file's view URL, or an upload URL.
func (f *faultFixture) ask(upload bool) (*http.Response, []byte) {
	if upload {
		return f.stack.Do("POST", "/api/v1/datasets/"+strconv.FormatInt(f.dataset, 10)+
			"/uploads", `{"key":"photos/new.jpg"}`, f.session.Apply)
	}
	return f.stack.Do("GET", "/api/v1/media/"+strconv.FormatInt(f.media, 10)+"/url", "",
		f.session.Apply)
}

// checkAnswer checks the URL of a success, byte for byte, and the public
// error of a failure.
func (f *faultFixture) checkAnswer(resp *http.Response, body []byte, tc faultCase) {
	f.t.Helper()
	var out struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Error   *struct {
			Code, Message string
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		f.t.Fatalf("answer %s is not JSON: %v", body, err)
	}
	if resp.StatusCode == 200 {
		if out.URL != f.okURL {
			f.t.Errorf("url %q, want the signer's %q byte for byte", out.URL, f.okURL)
		}
		if tc.upload && (out.Headers["x-amz-acl"] != "private" || out.Headers["Content-Type"] != "image/jpeg") {
			f.t.Errorf("upload headers %v, want the signer's and the Content-Type", out.Headers)
		}
		return
	}
	if out.Error == nil || out.Error.Message == "" {
		f.t.Fatalf("error answer %s has no message", body)
	}
	if strings.Contains(string(body), "sig-secret-9") || strings.Contains(string(body), "500") {
		f.t.Errorf("error answer %s shows the signer's details", body)
	}
}

// checkCache checks what the persistent tier holds and, by asking again
// from a healthy signer, whether anything was kept in memory.
func (f *faultFixture) checkCache(tc faultCase) {
	f.t.Helper()
	writes := f.stack.Store.CacheWrites()
	if tc.wantCached != (len(writes) == 1) || len(writes) > 1 {
		f.t.Fatalf("cache writes %d, want cached %v", len(writes), tc.wantCached)
	}
	if tc.wantCached && writes[0].URL != f.okURL {
		f.t.Fatalf("cached %q, want %q", writes[0].URL, f.okURL)
	}
	if tc.upload {
		return // upload URLs are never cached
	}

	f.signer.Set(answer(f.okURL))
	if tc.timeout > 0 {
		time.Sleep(100 * time.Millisecond) // the client gave up; the hanging handler ends
	}
	before := f.signer.Calls()
	resp, body := f.ask(false)
	if resp.StatusCode != 200 {
		f.t.Fatalf("after the signer healed: %d %s", resp.StatusCode, body)
	}
	want := int64(1)
	if tc.wantCached {
		want = 0
	}
	if got := f.signer.Calls() - before; got != want {
		f.t.Fatalf("asking again made %d signer calls, want %d", got, want)
	}
}

// TestOneThousandRequestsForOneKeyMakeOneCall sends 1000 concurrent
// requests of one user for one media file through the service.
func TestOneThousandRequestsForOneKeyMakeOneCall(t *testing.T) {
	release := make(chan struct{})
	s := cst.NewStack(t, cst.Options{})
	signer := cst.NewSigner(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		cst.Signs(mediasign.SystemClock{})(w, r)
	})
	conn := s.AddConnection("media", cst.DummyS3(), &mediasign.SignerConfig{URL: signer.URL})
	_, ids := s.AddMedia("p", conn, "b", "a.jpg")
	u := s.AddUser("ann", "", "p", mediasign.RoleViewer)
	ctx := mediasign.WithCaller(context.Background(), mediasign.Caller{UserID: u.ID,
		UserName: u.Name, Method: mediasign.AuthSession, Credential: "session-of-ann"})

	errs := make(chan error, 1000)
	for range 1000 {
		go func() {
			_, err := s.Service.MediaURLs(ctx, ids[0])
			errs <- err
		}()
	}
	for signer.Calls() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	for range 1000 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := signer.Calls(); got != 1 {
		t.Fatalf("1000 concurrent requests made %d signer calls, want 1", got)
	}
	s.Logs.MustNotHold(t, "session-of-ann")
}

// TestUploadExpiresAtIsTheURLs checks, through the API, that an upload
// answer reports when the signer's URL really expires, and that a URL
// valid far longer than asked is refused with a message saying so.
func TestUploadExpiresAtIsTheURLs(t *testing.T) {
	until := time.Now().Add(20 * time.Minute).UTC().Truncate(time.Second)
	tc := faultCase{handler: func(_ *httptest.Server, u string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("expires") != "3600" {
				w.WriteHeader(400)
				return
			}
			cst.WriteJSON(w, 200, map[string]any{"url": u, "expires_at": until.Format(time.RFC3339)})
		}
	}}
	f := newFaultFixture(t, tc)
	resp, body := f.ask(true)
	var out struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != 200 ||
		!out.ExpiresAt.Equal(until) {
		t.Fatalf("upload = %d %s, want expires_at %s", resp.StatusCode, body, until)
	}

	f.signer.Set(func(w http.ResponseWriter, r *http.Request) {
		cst.WriteJSON(w, 200, map[string]any{"url": f.okURL, "expires_at": "2099-01-01T00:00:00Z"})
	})
	resp, body = f.ask(true)
	if resp.StatusCode != 502 || !strings.Contains(string(body), "longer than the 3600 s asked") ||
		strings.Contains(string(body), "sig-secret-9") {
		t.Fatalf("upload valid until 2099 = %d %s, want 502 saying why", resp.StatusCode, body)
	}
}
