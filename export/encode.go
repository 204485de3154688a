package export

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Entry is one media file of an export, as the file holds it.
type Entry struct {
	ID             int64     `json:"id"`
	Dataset        string    `json:"dataset"`
	Connection     string    `json:"connection"`
	Bucket         string    `json:"bucket"`
	Key            string    `json:"key"`
	MediaType      string    `json:"media_type"`
	Size           int64     `json:"size"`
	URL            string    `json:"url"`
	ExpiresAt      time.Time `json:"expires_at"`
	ThumbKey       string    `json:"thumb_key,omitempty"`
	ThumbURL       string    `json:"thumb_url,omitempty"`
	ThumbExpiresAt time.Time `json:"thumb_expires_at,omitzero"`

	// ResolverURL is mediasign's own /m/{id}, which hands an authorized
	// caller a fresh URL at any time.
	ResolverURL string `json:"resolver_url"`
}

// earliest returns when the first URL of the entry expires.
func (e *Entry) earliest() time.Time {
	if e.ThumbURL != "" && e.ThumbExpiresAt.Before(e.ExpiresAt) {
		return e.ThumbExpiresAt
	}
	return e.ExpiresAt
}

// DatasetRef names a dataset in the header.
type DatasetRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Header describes an export file. MinExpiresAt is at least
// MinValidSeconds after GeneratedAt: every URL of the file was valid that
// long when the export completed.
type Header struct {
	Project         string       `json:"project"`
	Datasets        []DatasetRef `json:"datasets"`
	GeneratedAt     time.Time    `json:"generated_at"`
	Count           int64        `json:"count"`
	MinExpiresAt    time.Time    `json:"min_expires_at"`
	MinValidSeconds int64        `json:"min_valid_seconds"`
}

// appendHeader appends the header as a JSON object.
func appendHeader(b []byte, h *Header) []byte {
	b = append(b, `{"project":`...)
	b = appendString(b, h.Project)
	b = append(b, `,"datasets":[`...)
	for i, d := range h.Datasets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, d.ID, 10)
		b = append(b, `,"name":`...)
		b = appendString(b, d.Name)
		b = append(b, '}')
	}
	b = append(b, `],"generated_at":`...)
	b = appendTime(b, h.GeneratedAt)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, h.Count, 10)
	b = append(b, `,"min_expires_at":`...)
	b = appendTime(b, h.MinExpiresAt)
	b = append(b, `,"min_valid_seconds":`...)
	b = strconv.AppendInt(b, h.MinValidSeconds, 10)
	return append(b, '}')
}

// appendEntry appends one entry as a JSON object, fields in a fixed order.
func appendEntry(b []byte, e *Entry) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = appendField(b, "dataset", e.Dataset)
	b = appendField(b, "connection", e.Connection)
	b = appendField(b, "bucket", e.Bucket)
	// TODO: Keys that are not valid UTF-8 lose their bad bytes to U+FFFD in
	// JSON; an extra percent-encoded key field would let consumers map such
	// entries back to their objects exactly.
	b = appendField(b, "key", e.Key)
	b = appendField(b, "media_type", e.MediaType)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, e.Size, 10)
	b = appendField(b, "url", e.URL)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, e.ExpiresAt)
	if e.ThumbURL != "" {
		b = appendField(b, "thumb_key", e.ThumbKey)
		b = appendField(b, "thumb_url", e.ThumbURL)
		b = append(b, `,"thumb_expires_at":`...)
		b = appendTime(b, e.ThumbExpiresAt)
	}
	b = appendField(b, "resolver_url", e.ResolverURL)
	return append(b, '}')
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendTime appends t in UTC as an RFC 3339 JSON string.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters, quotes and
// backslashes are escaped, as are U+2028 and U+2029; bytes that are not
// UTF-8 become U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
