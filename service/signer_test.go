package service

import (
	"testing"

	"github.com/mediasign/mediasign"
)

func TestKeepSigner(t *testing.T) {
	stored := func() *mediasign.Connection {
		return &mediasign.Connection{Name: "c", Provider: mediasign.ProviderS3,
			Signer: &mediasign.SignerConfig{URL: "https://signer.test", ServiceToken: "tok"}}
	}
	for _, tc := range []struct {
		name      string
		sent      *mediasign.SignerConfig
		wantURL   string // "" means no signer
		wantToken string
		invalid   bool
	}{
		{"left out keeps it", nil, "https://signer.test", "tok", false},
		{"empty url removes it", &mediasign.SignerConfig{}, "", "", false},
		{"same url keeps the token", &mediasign.SignerConfig{URL: "https://signer.test/"},
			"https://signer.test/", "tok", false},
		{"new token replaces it", &mediasign.SignerConfig{URL: "https://signer.test", ServiceToken: "new"},
			"https://signer.test", "new", false},
		{"new url needs the token", &mediasign.SignerConfig{URL: "https://elsewhere.test"}, "", "", true},
		{"new url with a token", &mediasign.SignerConfig{URL: "https://elsewhere.test", ServiceToken: "t2"},
			"https://elsewhere.test", "t2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &mediasign.Connection{Name: "c", Provider: mediasign.ProviderS3, Signer: tc.sent}
			err := keepSigner(stored(), c)
			if tc.invalid {
				if mediasign.ErrorCode(err) != mediasign.CodeInvalid {
					t.Fatalf("error %v, want invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.wantURL == "" && c.Signer != nil:
				t.Fatalf("signer %+v kept, want removed", c.Signer)
			case tc.wantURL != "" && (c.Signer == nil || c.Signer.URL != tc.wantURL ||
				c.Signer.ServiceToken != tc.wantToken):
				t.Fatalf("signer %+v, want url %s token %s", c.Signer, tc.wantURL, tc.wantToken)
			}
		})
	}
}

func TestLocalConnectionsHaveNoSigner(t *testing.T) {
	c := &mediasign.Connection{Name: "disk", Provider: mediasign.ProviderLocal,
		Signer: &mediasign.SignerConfig{URL: "https://signer.test"}}
	if err := validateSigner(c); mediasign.ErrorCode(err) != mediasign.CodeInvalid {
		t.Fatalf("error %v, want invalid", err)
	}
}
