package auth_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/mediasign/mediasign/auth"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies trusted: header ignored", "10.1.1.1:5000", []string{"203.0.113.9"}, nil,
			"10.1.1.1"},
		{"untrusted peer: header ignored", "198.51.100.7:5000", []string{"203.0.113.9"}, proxies,
			"198.51.100.7"},
		{"trusted peer: client from header", "10.1.1.1:5000", []string{"203.0.113.9"}, proxies,
			"203.0.113.9"},
		{"spoofed left entries skipped", "10.1.1.1:5000", []string{"1.2.3.4, 203.0.113.9"}, proxies,
			"203.0.113.9"},
		{"chain of trusted proxies", "10.1.1.1:5000", []string{"203.0.113.9, 10.2.2.2", "10.3.3.3"},
			proxies, "203.0.113.9"},
		{"garbage stops at the last trusted hop", "10.1.1.1:5000", []string{"203.0.113.9, junk"},
			proxies, "10.1.1.1"},
		{"all trusted: leftmost", "10.1.1.1:5000", []string{"10.9.9.9"}, proxies, "10.9.9.9"},
		{"no header from a trusted peer", "10.1.1.1:5000", nil, proxies, "10.1.1.1"},
		{"IPv6 proxy", "[fd00::1]:443", []string{"2001:db8::7"}, proxies, "2001:db8::7"},
		{"IPv4-mapped peer", "[::ffff:10.1.1.1]:80", []string{"203.0.113.9"}, proxies,
			"203.0.113.9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/login", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := auth.ClientIP(r, tc.trusted)
			if !ok || got.String() != tc.want {
				t.Fatalf("ClientIP = %v, %v; want %s", got, ok, tc.want)
			}
		})
	}
}
