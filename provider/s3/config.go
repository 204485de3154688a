package s3

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/mediasign/mediasign"
)

const maxRegionLen = 64

// ValidateConfig normalizes cfg in place and reports the first problem with
// it. Endpoints lose a trailing slash and the default port of their scheme,
// and their scheme and host are lower-cased, so the host that is signed is
// the host a client sends.
func ValidateConfig(cfg *mediasign.S3Config) error {
	if cfg == nil {
		return mediasign.Invalidf("s3 settings are missing: give at least a region and credentials")
	}

	cfg.Region = strings.TrimSpace(cfg.Region)
	if err := validateRegion(cfg.Region); err != nil {
		return err
	}

	endpoint, err := normalizeEndpoint("endpoint", cfg.Endpoint)
	if err != nil {
		return err
	}
	public, err := normalizeEndpoint("public_endpoint", cfg.PublicEndpoint)
	if err != nil {
		return err
	}
	cfg.Endpoint, cfg.PublicEndpoint = endpoint, public

	return validateCredentials(cfg)
}

func validateRegion(region string) error {
	if region == "" {
		return mediasign.Invalidf("region is required: set it to the bucket's region, " +
			"such as us-east-1 (S3-compatible servers usually accept us-east-1)")
	}
	if len(region) > maxRegionLen {
		return mediasign.Invalidf("region is too long: use at most %d characters", maxRegionLen)
	}
	for _, c := range []byte(region) {
		if !isRegionByte(c) {
			return mediasign.Invalidf("region %q has a character %q that is not allowed: "+
				"use only letters, digits, '-', '_' and '.'", region, c)
		}
	}
	return nil
}

func isRegionByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}

func validateCredentials(cfg *mediasign.S3Config) error {
	if cfg.AccessKeyID == "" {
		return mediasign.Invalidf("access_key_id is required: set the access key of the account")
	}
	if strings.ContainsAny(cfg.AccessKeyID, "/ \t\r\n") {
		return mediasign.Invalidf("access_key_id must not contain '/' or spaces: " +
			"paste the access key alone")
	}
	if cfg.SecretAccessKey == "" {
		return mediasign.Invalidf("secret_access_key is required: set the secret of the access key")
	}
	return nil
}

// normalizeEndpoint checks that raw is empty or an absolute http or https
// URL naming only a host and port, and returns it in canonical form.
func normalizeEndpoint(field, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}

	u, err := url.Parse(raw)
	if err != nil {
		return "", mediasign.Invalidf("%s %q is not a URL: write it as https://host[:port]",
			field, raw)
	}
	if err := checkEndpointParts(field, raw, u); err != nil {
		return "", err
	}

	host, err := normalizeHost(field, raw, u)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + host, nil
}

func checkEndpointParts(field, raw string, u *url.URL) error {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return mediasign.Invalidf("%s %q must start with http:// or https://", field, raw)
	case u.Opaque != "" || u.Host == "":
		return mediasign.Invalidf("%s %q has no host: write it as %s://host[:port]",
			field, raw, u.Scheme)
	case u.User != nil:
		return mediasign.Invalidf("%s must not hold a user name or password: "+
			"put credentials in access_key_id and secret_access_key", field)
	case u.Path != "" && u.Path != "/" || u.RawPath != "":
		return mediasign.Invalidf("%s %q must not have a path: remove %q "+
			"(the bucket goes in the bucket setting, path style in path_style)",
			field, raw, u.Path)
	case u.RawQuery != "" || u.ForceQuery:
		return mediasign.Invalidf("%s %q must not have a query: remove the part after '?'",
			field, raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return mediasign.Invalidf("%s %q must not have a fragment: remove the part after '#'",
			field, raw)
	}
	return nil
}

// normalizeHost lower-cases the host, checks the port and drops it when it
// is the default port of the scheme.
func normalizeHost(field, raw string, u *url.URL) (string, error) {
	name := strings.ToLower(u.Hostname())
	port := u.Port()
	if name == "" {
		return "", mediasign.Invalidf("%s %q has no host name: write it as %s://host[:port]",
			field, raw, u.Scheme)
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", mediasign.Invalidf("%s %q has an empty port: remove the ':' or add a port",
			field, raw)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", mediasign.Invalidf("%s %q has an invalid port: use 1 to 65535",
				field, raw)
		}
		port = strconv.Itoa(n)
	}

	if port == defaultPort(u.Scheme) {
		port = ""
	}
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	if port == "" {
		return name, nil
	}
	return net.JoinHostPort(strings.Trim(name, "[]"), port), nil
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
