package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/mediasign/mediasign"
)

// Limits on what people type.
const (
	// MaxNameChars is the longest user name, in characters.
	MaxNameChars = 64

	// MinPasswordChars is the shortest password a user may set.
	MinPasswordChars = 8

	// MaxPasswordBytes is the longest password, in bytes of UTF-8.
	MaxPasswordBytes = 1024

	// maxNameBytes refuses oversized names before any normalization work.
	maxNameBytes = 4 * MaxNameChars
)

const nameRules = "use 1 to 64 letters, digits, '.', '_', '-', '+' or '@', " +
	"starting with a letter or digit, in one script"

// NormalizeName checks a user name and returns it in Unicode NFC, as it is
// stored and shown, together with its key, which decides uniqueness and
// matches at sign-in.
//
// Names hold letters, digits, combining marks and . _ - + @, and start with
// a letter or digit, so spaces, invisible format characters and direction
// overrides cannot make two names look alike. The letters of one name come
// from one script, or from one of the combinations that Unicode's "highly
// restrictive" identifier profile (UTS #39) allows, so "admin" written with
// a Cyrillic "а" is refused. The key is the NFKC case fold of the name:
// names that differ only in case, width (fullwidth "ａｄｍｉｎ") or
// compatibility forms share one key, so only one of them can exist.
//
// TODO: Whole-script confusables (a name written entirely in Cyrillic
// letters that look Latin) and lookalikes within one script ("rn" and "m")
// still pass; the UTS #39 skeleton check would catch them but needs its
// confusables table.
func NormalizeName(raw string) (name, key string, err error) {
	switch {
	case raw == "":
		return "", "", mediasign.Invalidf("user name is empty: %s", nameRules)
	case len(raw) > maxNameBytes:
		return "", "", mediasign.Invalidf("user name is longer than %d characters: %s",
			MaxNameChars, nameRules)
	case !utf8.ValidString(raw):
		return "", "", mediasign.Invalidf("user name is not valid UTF-8: %s", nameRules)
	}

	name = norm.NFC.String(raw)
	if n := utf8.RuneCountInString(name); n > MaxNameChars {
		return "", "", mediasign.Invalidf("user name is %d characters long: %s", n, nameRules)
	}
	if err := checkNameRunes(name); err != nil {
		return "", "", err
	}
	if !singleScript(name) {
		return "", "", mediasign.Invalidf("user name %q mixes scripts, as lookalike names "+
			"do: %s", name, nameRules)
	}
	return name, nameKey(name), nil
}

// nameKey is the NFKC case fold of a name.
func nameKey(name string) string {
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(name)))
}

func checkNameRunes(name string) error {
	for i, r := range name {
		letterOrDigit := unicode.IsLetter(r) || unicode.Is(unicode.Nd, r)
		switch {
		case i == 0 && !letterOrDigit:
			return mediasign.Invalidf("user name %q does not start with a letter or digit: %s",
				name, nameRules)
		case letterOrDigit, unicode.Is(unicode.M, r), strings.ContainsRune("._-+@", r):
			continue
		}
		return mediasign.Invalidf("user name %q holds %U, which names may not hold: %s",
			name, r, nameRules)
	}
	return nil
}

// scriptSets are the script combinations a name may use beyond a single
// script, after UTS #39's highly restrictive profile.
var scriptSets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// singleScript reports whether the letters and digits of name come from
// one script or one allowed combination; Common and Inherited characters
// such as ASCII digits and combining marks belong to every script.
func singleScript(name string) bool {
	seen := map[string]bool{}
	for _, r := range name {
		if s := scriptOf(r); s != "" && s != "Common" && s != "Inherited" {
			seen[s] = true
		}
	}
	if len(seen) <= 1 {
		return true
	}
	for _, set := range scriptSets {
		if coveredBy(seen, set) {
			return true
		}
	}
	return false
}

func coveredBy(seen map[string]bool, set []string) bool {
	for s := range seen {
		found := false
		for _, allowed := range set {
			found = found || s == allowed
		}
		if !found {
			return false
		}
	}
	return true
}

// scriptOf returns the Unicode script of r, or "" when it has none.
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if unicode.IsLetter(r) {
			return "Latin"
		}
		return "Common"
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return ""
}

// CheckPassword checks a new password and returns it in NFC, so the same
// characters typed on different systems give the same password.
func CheckPassword(raw string) (string, error) {
	p, err := normalizePassword(raw)
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(p); n < MinPasswordChars {
		return "", mediasign.Invalidf("password is %d characters long: use at least %d",
			n, MinPasswordChars)
	}
	return p, nil
}

// normalizePassword checks what every password given, new or at sign-in,
// must be, and returns it in NFC.
func normalizePassword(raw string) (string, error) {
	switch {
	case raw == "":
		return "", mediasign.Invalidf("password is empty: give the password")
	case len(raw) > MaxPasswordBytes:
		return "", mediasign.Invalidf("password is longer than %d bytes: use a shorter one",
			MaxPasswordBytes)
	case !utf8.ValidString(raw):
		return "", mediasign.Invalidf("password is not valid UTF-8")
	}
	return norm.NFC.String(raw), nil
}
