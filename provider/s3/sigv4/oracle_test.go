package sigv4

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// sdkSigner is the oracle: the AWS SDK for Go v2 v4 signer in the mode its
// S3 client uses, which takes the request path as already encoded.
var sdkSigner = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })

// sdkPresign presigns r for cfg with the SDK's v4 signer and returns the
// URL and the headers it signed. The address is worked out here, apart
// from the engine: the key is encoded by the SDK's own path encoder, and
// the bucket goes into the host by the rule of oracleVirtual.
func sdkPresign(t testing.TB, cfg Config, r *Request) (string, http.Header) {
	t.Helper()

	host := oracleHost(cfg.Scheme, cfg.Host)
	path := "/" + httpbinding.EscapePath(r.Key, false)
	if oracleVirtual(cfg, r.Bucket, host) {
		host = r.Bucket + "." + host
	} else {
		path = "/" + httpbinding.EscapePath(r.Bucket, true) + path
	}

	req := &http.Request{
		Method: r.Method,
		URL: &url.URL{Scheme: cfg.Scheme, Host: host, Opaque: "//" + host + path,
			RawQuery: oracleQuery(r)},
		Host:   host,
		Header: http.Header{},
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	for _, h := range r.Headers {
		req.Header.Add(h.Name, h.Value)
	}

	creds := aws.Credentials{
		AccessKeyID:     cfg.Credentials.AccessKeyID,
		SecretAccessKey: cfg.Credentials.SecretAccessKey,
		SessionToken:    cfg.Credentials.SessionToken,
	}
	payload, service := cfg.PayloadHash, cfg.Service
	if payload == "" {
		payload = UnsignedPayload
	}
	if service == "" {
		service = DefaultService
	}
	signed, headers, err := sdkSigner.PresignHTTP(context.Background(), creds, req, payload,
		service, cfg.Region, r.Time)
	if err != nil {
		t.Fatalf("SDK presign: %v", err)
	}
	return signed, headers
}

// oracleQuery encodes the parameters of r that the caller adds before the
// SDK signs: the expiry, the response overrides and the extra parameters.
func oracleQuery(r *Request) string {
	q := url.Values{}
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(r.Expires/time.Second), 10))
	if r.ResponseContentType != "" {
		q.Set("response-content-type", r.ResponseContentType)
	}
	if r.ResponseContentDisposition != "" {
		q.Set("response-content-disposition", r.ResponseContentDisposition)
	}
	for _, p := range r.Query {
		q.Add(p.Name, p.Value)
	}

	var pairs []string
	for name, values := range q {
		for _, v := range values {
			pairs = append(pairs, strictEscape(name)+"="+strictEscape(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// strictEscape percent-encodes every byte but A-Z a-z 0-9 - . _ ~.
func strictEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// oracleHost lower-cases host and drops the default port of scheme, as the
// C13 case wants for the URL and the signed host alike.
func oracleHost(scheme, host string) string {
	host = strings.ToLower(host)
	h, port, err := net.SplitHostPort(host)
	if err != nil || !(scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		return host
	}
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// oracleVirtual reports whether the bucket goes into the host: not when
// path style is asked, the host is an IP address, or the bucket is no DNS
// name of lower-case labels (and, over HTTPS, of one label).
func oracleVirtual(cfg Config, bucket, host string) bool {
	if cfg.PathStyle || len(bucket) < 3 || len(bucket) > 63 || net.ParseIP(bucket) != nil {
		return false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return false
	}
	if cfg.Scheme == "https" && strings.Contains(bucket, ".") {
		return false
	}

	for _, label := range strings.Split(bucket, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		if strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
}

// signedHeaderNames returns the lower-case names of headers, host left
// out, sorted.
func signedHeaderNames[T any](names map[string]T) []string {
	var out []string
	for name := range names {
		if n := strings.ToLower(name); n != "host" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// presignedHeaderNames returns the lower-case names of p.Headers, without
// repeats, sorted.
func presignedHeaderNames(p Presigned) []string {
	set := map[string]bool{}
	for _, h := range p.Headers {
		set[h.Name] = true
	}
	return signedHeaderNames(set)
}
