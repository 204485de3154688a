package httpapi

import (
	"net/http"
	"time"

	"github.com/mediasign/mediasign/service"
)

// uploadInput asks for an upload URL. Connection and bucket may be left
// out to upload where the dataset's media are.
type uploadInput struct {
	Connection     string `json:"connection"`
	Bucket         string `json:"bucket"`
	Key            string `json:"key"`
	ContentType    string `json:"content_type"`
	ExpiresSeconds int64  `json:"expires_seconds"`
}

// uploadAnswer is a PUT URL with the headers the upload must send.
type uploadAnswer struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Headers     map[string]string `json:"headers"`
	ExpiresAt   time.Time         `json:"expires_at"`
	Connection  string            `json:"connection"`
	Bucket      string            `json:"bucket"`
	Key         string            `json:"key"`
	ContentType string            `json:"content_type"`
}

// createUpload answers an editor's request for an upload URL, signed by the
// connection's built-in signer or its custom signer.
func (s *Server) createUpload(w http.ResponseWriter, r *http.Request) error {
	id, err := service.ParseID("dataset", r.PathValue("id"))
	if err != nil {
		return err
	}
	var in uploadInput
	if err := decode(w, r, &in); err != nil {
		return err
	}

	u, err := s.svc.UploadURL(r.Context(), service.UploadRequest{DatasetID: id,
		Connection: in.Connection, Bucket: in.Bucket, Key: in.Key, ContentType: in.ContentType,
		Expires: time.Duration(in.ExpiresSeconds) * time.Second})
	if err != nil {
		return err
	}
	headers := u.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	writeJSON(w, http.StatusOK, uploadAnswer{Method: http.MethodPut, URL: u.URL, Headers: headers,
		ExpiresAt: u.ExpiresAt.UTC(), Connection: u.Connection, Bucket: u.Bucket, Key: u.Key,
		ContentType: u.ContentType})
	return nil
}
