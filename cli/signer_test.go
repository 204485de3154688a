package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/refsigner"
)

func TestSignerSecretIsPrintedOnce(t *testing.T) {
	dir := t.TempDir()
	code, first := runCLI(t, dir, "", "signer", "secret")
	if code != 0 || !strings.Contains(first, "mss_") || !strings.Contains(first,
		refsigner.EnvIntrospectionSecret) {
		t.Fatalf("signer secret = %d %q", code, first)
	}
	_, second := runCLI(t, dir, "", "signer", "secret")
	if second == first {
		t.Fatal("a second run printed the same secret")
	}
}

func TestSignerSaysWhatIsMissing(t *testing.T) {
	var out bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out,
		Lookup: func(string) (string, bool) { return "", false }, Clock: mediasign.SystemClock{}}
	code := Run(context.Background(), env, []string{"signer", "--mode", "session"})
	if code != 1 {
		t.Fatalf("signer without settings = %d %q, want 1", code, out.String())
	}
	for _, want := range []string{refsigner.EnvPolicy, refsigner.EnvMediasignURL,
		refsigner.EnvIntrospectionSecret, refsigner.EnvS3AccessKeyID} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q does not name %s", out.String(), want)
		}
	}

	out.Reset()
	if code := Run(context.Background(), env, []string{"signer", "--help"}); code != 0 ||
		!strings.Contains(out.String(), "policy") {
		t.Fatalf("signer --help = %d %q", code, out.String())
	}
}
