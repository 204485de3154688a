package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits on the provider's HTTP answers.
const (
	httpTimeout       = 10 * time.Second
	maxRedirects      = 5
	maxDiscoveryBytes = 256 << 10
	maxJWKSBytes      = 1 << 20
)

// discoveryPath is where a provider serves its metadata, below its issuer.
const discoveryPath = "/.well-known/openid-configuration"

// defaultHTTPClient returns a client with a timeout that follows redirects
// only within the host it first asked.
func defaultHTTPClient() *http.Client {
	return &http.Client{Timeout: httpTimeout, CheckRedirect: sameHostRedirect}
}

// sameHostRedirect allows a few redirects that keep the first request's
// scheme and host.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}

	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return fmt.Errorf("refused redirect from %s to another host %s",
			first.Host, req.URL.Host)
	}
	return nil
}

// discovery holds the fields of the provider metadata that are used.
type discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// discover fetches the issuer's discovery document, checks that it names the
// same issuer, and returns its JWKS URL.
func discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	docURL := strings.TrimSuffix(issuer, "/") + discoveryPath

	var doc discovery
	if err := getJSON(ctx, client, docURL, maxDiscoveryBytes, &doc); err != nil {
		return "", err
	}

	if doc.Issuer != issuer {
		return "", fmt.Errorf("discovery document names issuer %q, not the configured %q: "+
			"set the issuer exactly as the provider spells it", doc.Issuer, issuer)
	}
	if doc.JWKSURI == "" {
		return "", errors.New("discovery document has no jwks_uri")
	}

	u, err := url.Parse(doc.JWKSURI)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("discovery document has a jwks_uri that is not a URL: %q",
			doc.JWKSURI)
	}
	if err := checkScheme("jwks_uri", u); err != nil {
		return "", err
	}
	return doc.JWKSURI, nil
}

// getJSON fetches rawURL and decodes its JSON body of at most limit bytes
// into dst.
func getJSON(ctx context.Context, client *http.Client, rawURL string, limit int64, dst any) error {
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("build request for %s: %w", rawURL, err)
	}
	req.Header.Set("Accept", "application/json")

	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", rawURL, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %s", rawURL, resp.Status)
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", rawURL, err)
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("read %s: answer is larger than %d bytes", rawURL, limit)
	}

	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("decode %s: %w", rawURL, err)
	}
	return nil
}
