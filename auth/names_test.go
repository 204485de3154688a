package auth_test

import (
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, name, key string
		wantErr       string
	}{
		{in: "alice", name: "alice", key: "alice"},
		{in: "Alice.B_c-d+e@example.com", name: "Alice.B_c-d+e@example.com", key: "alice.b_c-d+e@example.com"},
		{in: "Zoe\u0308", name: "Zo\u00eb", key: "zo\u00eb"},
		{in: "ＡＤＭＩＮ", name: "ＡＤＭＩＮ", key: "admin"},
		{in: "Straße", name: "Straße", key: "strasse"},
		{in: "山田太郎", name: "山田太郎", key: "山田太郎"},
		{in: "yamadaやまだ山田", name: "yamadaやまだ山田", key: "yamadaやまだ山田"},
		{in: "김철수", name: "김철수", key: "김철수"},
		{in: "Ωmega", name: "Ωmega", wantErr: "mixes scripts"},
		{in: "\u0430dmin", wantErr: "mixes scripts"}, // Cyrillic а
		{in: "ab\u200bc", wantErr: "U+200B"},         // zero width space
		{in: "", wantErr: "empty"},
		{in: ".hidden", wantErr: "start with a letter or digit"},
		{in: "a b", wantErr: "U+0020"},
		{in: "a/b", wantErr: "U+002F"},
		{in: strings.Repeat("x", 65), wantErr: "65 characters"},
		{in: strings.Repeat("x", 5000), wantErr: "longer than 64"},
		{in: "bad\xffutf8", wantErr: "UTF-8"},
	}
	for _, tt := range tests {
		name, key, err := auth.NormalizeName(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) ||
				mediasign.ErrorCode(err) != mediasign.CodeInvalid {
				t.Errorf("NormalizeName(%q) = %q, %v; want an invalid-argument error with %q",
					tt.in, name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || name != tt.name || (tt.key != "" && key != tt.key) {
			t.Errorf("NormalizeName(%q) = %q, %q, %v; want %q, %q", tt.in, name, key, err,
				tt.name, tt.key)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "empty",
		"short":                   "at least 8",
		strings.Repeat("p", 1025): "longer than 1024",
		"pass\xffword":            "UTF-8",
	} {
		if _, err := auth.CheckPassword(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckPassword(%.20q) = %v, want an error with %q", in, err, want)
		}
	}
	if p, err := auth.CheckPassword("Kennwort-Zoe\u0308"); err != nil || p != "Kennwort-Zo\u00eb" {
		t.Errorf("CheckPassword = %q, %v, want the NFC form", p, err)
	}
	if p := auth.GeneratePassword(); len(p) < 20 || p == auth.GeneratePassword() {
		t.Errorf("GeneratePassword gave %q", p)
	}
}

// FuzzNormalizeName checks that any input either is refused with an
// invalid-argument error or gives a name that normalizes to itself.
func FuzzNormalizeName(f *testing.F) {
	for _, seed := range []string{"alice", "Zoe\u0308", "ＡＤＭＩＮ", "山田", "\u0430dmin", "a\u202eb", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name, key, err := auth.NormalizeName(in)
		if err != nil {
			if mediasign.ErrorCode(err) != mediasign.CodeInvalid {
				t.Fatalf("NormalizeName(%q) error %v is not invalid_argument", in, err)
			}
			return
		}
		name2, key2, err := auth.NormalizeName(name)
		if err != nil || name2 != name || key2 != key || key == "" {
			t.Fatalf("NormalizeName(%q) = %q %q, but again gives %q %q %v", in, name, key,
				name2, key2, err)
		}
	})
}
