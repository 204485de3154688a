package oidc

import (
	"context"
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	keys := []testKey{rsaKey(b, 0, "rsa-1"), ecKey(b, "ec-1")}
	f := newFixture(b, nil, keys...)
	ctx := context.Background()

	for _, k := range keys {
		token := k.sign(b, f.claims())
		b.Run(string(k.alg), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.v.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
