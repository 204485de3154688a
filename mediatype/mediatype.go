// Package mediatype guesses the media type of an object from its key.
package mediatype

import (
	"mime"
	"path"
	"strings"
)

// Default is the media type of objects whose extension is unknown.
const Default = "application/octet-stream"

// known lists the media types of extensions common in datasets, so the answer
// does not depend on the machine's MIME tables.
var known = map[string]string{
	".avif": "image/avif",
	".bmp":  "image/bmp",
	".gif":  "image/gif",
	".heic": "image/heic",
	".jpeg": "image/jpeg",
	".jpg":  "image/jpeg",
	".png":  "image/png",
	".svg":  "image/svg+xml",
	".tif":  "image/tiff",
	".tiff": "image/tiff",
	".webp": "image/webp",
	".dcm":  "application/dicom",
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".mov":  "video/quicktime",
	".webm": "video/webm",
	".mkv":  "video/x-matroska",
	".avi":  "video/x-msvideo",
	".mp3":  "audio/mpeg",
	".wav":  "audio/wav",
	".flac": "audio/flac",
	".ogg":  "audio/ogg",
	".m4a":  "audio/mp4",
	".pdf":  "application/pdf",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
	".csv":  "text/csv; charset=utf-8",
}

// FromKey returns the media type for the extension of key, or Default.
func FromKey(key string) string {
	ext := strings.ToLower(path.Ext(key))
	if ext == "" {
		return Default
	}
	if t, ok := known[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return Default
}

// Kind returns the top-level type of a media type: "image", "video",
// "audio", "text" or "application".
func Kind(mediaType string) string {
	kind, _, _ := strings.Cut(mediaType, "/")
	return kind
}
