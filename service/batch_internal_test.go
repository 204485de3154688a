package service

import (
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
)

// TestBatchSignerHook checks the refusal that stands for the custom signer
// hook of batches until the store keeps signer settings end to end.
func TestBatchSignerHook(t *testing.T) {
	if err := batchSigner(&mediasign.Connection{Name: "plain"}); err != nil {
		t.Fatalf("batchSigner(plain) = %v, want nil", err)
	}
	err := batchSigner(&mediasign.Connection{Name: "custom",
		Signer: &mediasign.SignerConfig{URL: "http://127.0.0.1:9"}})
	if mediasign.ErrorCode(err) != mediasign.CodeInvalid ||
		!strings.Contains(mediasign.PublicMessage(err), `"custom"`) {
		t.Fatalf("batchSigner(custom) = %v, want an invalid-argument error naming it", err)
	}
}
