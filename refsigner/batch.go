package refsigner

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// batchRequest is the body of a batch call.
type batchRequest struct {
	Items []struct {
		Key         string `json:"key"`
		ContentType string `json:"content_type"`
	} `json:"items"`
}

// batchWorkers bounds the keys of one batch signed at once.
const batchWorkers = 8

// signBatch answers POST /{bucket}/?method=... with one result per item,
// in order: {"results": [{"url", "expires_at", "headers"} or {"status",
// "error"}]}.
func (s *Server) signBatch(w http.ResponseWriter, r *http.Request) {
	m, err := parseMethod(r.URL.Query().Get("method"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pr, ok := s.identify(w, r)
	if !ok {
		return
	}
	expires, err := s.validity(r.URL.Query().Get("expires"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	req, err := readBatch(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	bucket := r.PathValue("bucket")
	out := make([]result, len(req.Items))
	sem := make(chan struct{}, batchWorkers)
	var wg sync.WaitGroup
	for i, it := range req.Items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, out[i] = s.sign(r.Context(), pr, bucket, it.Key, m, it.ContentType, expires)
		}()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, map[string][]result{"results": out})
}

func readBatch(w http.ResponseWriter, r *http.Request) (batchRequest, error) {
	var req batchRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBatchBody))
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, fmt.Errorf("the body is larger than %d bytes", maxBatchBody)
		}
		return req, errors.New(`the body is not {"items": [{"key": ...}, ...]}`)
	}
	if len(req.Items) == 0 || len(req.Items) > maxBatchItems {
		return req, fmt.Errorf("give 1 to %d items", maxBatchItems)
	}
	return req, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
