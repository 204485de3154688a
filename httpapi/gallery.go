package httpapi

import (
	_ "embed"
	"net/http"
)

//go:embed gallery.html
var galleryPage []byte

// gallery serves the small web page that shows a dataset's media. The page
// holds no data: it signs in and asks the API with the session cookie, or
// with the token the user pastes in OAuth2 mode.
func (s *Server) gallery(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src * data:; media-src *; "+
		"script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(galleryPage)
}
