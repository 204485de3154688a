package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/service"
)

// urlAnswer is the JSON form of a media file's URLs.
type urlAnswer struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url,omitempty"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
	ThumbURL       string     `json:"thumb_url,omitempty"`
	ThumbExpiresAt *time.Time `json:"thumb_expires_at,omitempty"`

	// Stale says a URL was served below the minimum validity because the
	// storage's signer failed: it works, for less long than usual.
	Stale bool      `json:"stale,omitempty"`
	Error *apiError `json:"error,omitempty"`
}

func answerOf(u service.MediaURLs) urlAnswer {
	a := urlAnswer{ID: u.ID, URL: u.URL, ExpiresAt: utc(u.ExpiresAt), Stale: u.Stale}
	if u.ThumbURL != "" {
		a.ThumbURL, a.ThumbExpiresAt = u.ThumbURL, utc(u.ThumbExpiresAt)
	}
	return a
}

func utc(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

func (s *Server) mediaURL(w http.ResponseWriter, r *http.Request) error {
	id, err := service.ParseID("media", r.PathValue("id"))
	if err != nil {
		return err
	}
	u, err := s.svc.MediaURLs(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, answerOf(u))
	return nil
}

// batchRequest asks for the URLs of many media files. Ids may be numbers or
// numeric strings; anything else gets an error answer of its own.
type batchRequest struct {
	IDs []json.RawMessage `json:"ids"`
}

func (s *Server) batchURLs(w http.ResponseWriter, r *http.Request) error {
	var req batchRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if len(req.IDs) == 0 {
		return mediasign.Invalidf(`ids is empty: send {"ids": [1, 2, ...]} with 1 to %d ids`,
			service.MaxBatch)
	}
	if len(req.IDs) > service.MaxBatch {
		return mediasign.Invalidf("a batch holds at most %d ids; this one has %d: split it",
			service.MaxBatch, len(req.IDs))
	}

	ids, bad := parseBatchIDs(req.IDs)
	denied, err := s.deniedMedia(r.Context(), ids)
	if err != nil {
		return err
	}
	signable := slices.Clone(ids)
	for i := range denied {
		signable[i] = 0 // refused: never signed
	}
	items, err := s.svc.BatchURLs(r.Context(), signable)
	if err != nil {
		return err
	}

	out := make([]urlAnswer, len(req.IDs))
	for i, it := range items {
		if msg, ok := bad[i]; ok {
			out[i] = urlAnswer{Error: &apiError{Code: mediasign.CodeInvalid, Message: msg}}
			continue
		}
		if err, ok := denied[i]; ok {
			e := publicError(err)
			out[i] = urlAnswer{ID: ids[i], Error: &e}
			continue
		}
		if it.Err != nil {
			e := publicError(it.Err)
			out[i] = urlAnswer{ID: it.ID, Error: &e}
			continue
		}
		out[i] = answerOf(it.URLs)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

// parseBatchIDs returns an id per position (0 where malformed) and the
// messages of the malformed ones by position.
func parseBatchIDs(raw []json.RawMessage) ([]int64, map[int]string) {
	ids := make([]int64, len(raw))
	bad := make(map[int]string)
	for i, r := range raw {
		text := strings.Trim(string(r), `"`)
		id, err := strconv.ParseInt(text, 10, 64)
		if err != nil || id <= 0 {
			bad[i] = "id " + truncate(string(r), 40) + " is not valid: give a positive whole number"
			continue
		}
		ids[i] = id
	}
	return ids, bad
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// staleHeader marks a redirect to a URL served below the minimum validity
// because the storage's signer failed.
const staleHeader = "X-Mediasign-Stale"

// redirect answers 302 to a signed URL. The answer may be cached only while
// the URL stays servable, so a cached redirect never hands out a URL with
// less than the minimum validity left.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request) error {
	id, err := service.ParseID("media", r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := service.ParseVariant(r.URL.Query().Get("variant"))
	if err != nil {
		return err
	}
	res, err := s.svc.VariantURL(r.Context(), id, v)
	if err != nil {
		return err
	}

	safe := s.svc.Policy().SafeFor(res.ExpiresAt, s.clock.Now())
	if secs := int64(safe / time.Second); secs > 0 {
		w.Header().Set("Cache-Control", "private, max-age="+strconv.FormatInt(secs, 10))
	} else {
		w.Header().Set("Cache-Control", "no-store")
	}
	if res.Stale {
		w.Header().Set(staleHeader, "true")
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Location", res.URL)
	w.WriteHeader(http.StatusFound)
	return nil
}
