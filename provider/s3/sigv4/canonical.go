package sigv4

import (
	"bytes"
	"strings"
)

// buildHeaders writes the canonical header lines and the signed header
// list: host, the content type and r.Headers, sorted by lowercase name.
func (sc *scratch) buildHeaders(s *Signer, r *Request, vhost bool) {
	sc.hbuf, sc.hspans = sc.hbuf[:0], sc.hspans[:0]
	if r.ContentType != "" {
		sc.addHeader("content-type", r.ContentType)
	}
	for _, h := range r.Headers {
		sc.addHeader(h.Name, h.Value)
	}
	sortSpans(sc.hspans, sc.hbuf, false)

	sc.headers, sc.signed = sc.headers[:0], sc.signed[:0]
	hostDone := false
	for i := 0; i < len(sc.hspans); {
		name := sc.hbuf[sc.hspans[i].start:sc.hspans[i].mid]
		if !hostDone && string(name) > "host" {
			sc.writeHost(s, r.Bucket, vhost)
			hostDone = true
		}
		i = sc.writeHeader(i)
	}
	if !hostDone {
		sc.writeHost(s, r.Bucket, vhost)
	}
}

// addHeader adds a header with its name lowercased and its value trimmed,
// runs of spaces inside it made one.
func (sc *scratch) addHeader(name, value string) {
	start := len(sc.hbuf)
	for i := 0; i < len(name); i++ {
		sc.hbuf = append(sc.hbuf, lower(name[i]))
	}
	mid := len(sc.hbuf)

	value = strings.TrimSpace(value)
	for i := 0; i < len(value); i++ {
		if value[i] == ' ' && value[i-1] == ' ' {
			continue
		}
		sc.hbuf = append(sc.hbuf, value[i])
	}
	sc.hspans = append(sc.hspans, span{start: start, mid: mid, val: mid, end: len(sc.hbuf)})
}

// lower returns c with an ASCII capital made small.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// writeHost writes the host line and name.
func (sc *scratch) writeHost(s *Signer, bucket string, vhost bool) {
	if vhost {
		sc.headers = append(sc.headers, "host:"...)
		sc.headers = append(sc.headers, bucket...)
		sc.headers = append(sc.headers, '.')
		sc.headers = append(sc.headers, s.host...)
		sc.headers = append(sc.headers, '\n')
	} else {
		sc.headers = append(sc.headers, s.hostLine...)
	}
	appendSigned(sc, "host")
}

// writeHeader writes the header at hspans[i] with the values of the
// headers of the same name that follow it, joined by commas, and returns
// the index of the next name.
func (sc *scratch) writeHeader(i int) int {
	h := sc.hspans[i]
	name := sc.hbuf[h.start:h.mid]
	appendSigned(sc, name)
	sc.headers = append(sc.headers, name...)
	sc.headers = append(sc.headers, ':')
	sc.headers = append(sc.headers, sc.hbuf[h.val:h.end]...)

	for i++; i < len(sc.hspans); i++ {
		next := sc.hspans[i]
		if !bytes.Equal(sc.hbuf[next.start:next.mid], name) {
			break
		}
		sc.headers = append(sc.headers, ',')
		sc.headers = append(sc.headers, sc.hbuf[next.val:next.end]...)
	}

	sc.headers = append(sc.headers, '\n')
	return i
}

// appendSigned adds name to the signed header list of sc.
func appendSigned[T string | []byte](sc *scratch, name T) {
	if len(sc.signed) > 0 {
		sc.signed = append(sc.signed, ';')
	}
	sc.signed = append(sc.signed, name...)
}

// sortSpans sorts spans of buf by name, then by value when byValue, in
// place and stably. The lists are short, so insertion sort does.
func sortSpans(spans []span, buf []byte, byValue bool) {
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spanLess(buf, spans[j], spans[j-1], byValue); j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
}

// spanLess reports whether a sorts before b.
func spanLess(buf []byte, a, b span, byValue bool) bool {
	if c := bytes.Compare(buf[a.start:a.mid], buf[b.start:b.mid]); c != 0 || !byValue {
		return c < 0
	}
	return bytes.Compare(buf[a.val:a.end], buf[b.val:b.end]) < 0
}

// joinParams appends the parameters as name=value pairs joined by &.
func joinParams(dst []byte, params []span, buf []byte) []byte {
	for i, p := range params {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, buf[p.start:p.mid]...)
		dst = append(dst, '=')
		dst = append(dst, buf[p.val:p.end]...)
	}
	return dst
}
