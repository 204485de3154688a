package sigv4

import (
	"testing"
	"time"
)

func BenchmarkTmpEngine(b *testing.B) {
	s := caseSigner(b, "https", "s3.eu-north-1.amazonaws.com", false)
	r := &Request{Method: "GET", Bucket: caseBucket, Key: "datasets/cats/img_000123.jpg", Time: caseTime, Expires: 6 * 24 * time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Presign(r); err != nil {
			b.Fatal(err)
		}
	}
}
