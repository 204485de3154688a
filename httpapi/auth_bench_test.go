package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

// BenchmarkRedirectAuth measures /m/{id} for a cached URL by how the caller
// authenticates, in process, without the network.
func BenchmarkRedirectAuth(b *testing.B) {
	f := newFixture(b, auth.Options{})
	f.addUser("viewer", mediasign.RoleViewer)
	handler := f.srv.Config.Handler
	b.Run("no-auth-baseline", func(b *testing.B) {
		srv := handler.(*Server)
		ctx := mediasign.WithCaller(b.Context(), mediasign.Caller{InstallAdmin: true})
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("GET", "/m/1", nil).WithContext(ctx)
			r.SetPathValue("id", "1")
			w := httptest.NewRecorder()
			if err := srv.redirect(w, r); err != nil || w.Code != http.StatusFound {
				b.Fatalf("status %d, %v", w.Code, err)
			}
		}
	})
	for _, c := range []struct {
		name    string
		prepare func(*http.Request)
	}{
		{"admin-token", bearer(f.admin)},
		{"api-token", bearer(f.apiToken("p", mediasign.RoleViewer))},
		{"session-member", f.login("viewer", "password-1").apply},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("GET", "/m/1", nil)
				c.prepare(r)
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, r)
				if w.Code != http.StatusFound {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
