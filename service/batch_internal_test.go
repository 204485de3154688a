package service

import (
	"fmt"
	"testing"
	"time"
)

func TestSplitCoversEveryPositionOnce(t *testing.T) {
	for _, tc := range []struct{ n, parts, chunks int }{
		{0, 4, 0}, {1, 4, 1}, {7, 3, 3}, {10, 512, 10}, {2500, 512, 500},
	} {
		t.Run(fmt.Sprintf("%d in %d", tc.n, tc.parts), func(t *testing.T) {
			idx := make([]int, tc.n)
			for i := range idx {
				idx[i] = i * 2
			}
			got := split(idx, tc.parts)
			if len(got) != tc.chunks {
				t.Fatalf("split gave %d chunks, want %d", len(got), tc.chunks)
			}
			next := 0
			for _, c := range got {
				for _, v := range c {
					if v != next*2 {
						t.Fatalf("position %d holds %d, want %d", next, v, next*2)
					}
					next++
				}
			}
			if next != tc.n {
				t.Fatalf("split covered %d positions, want %d", next, tc.n)
			}
		})
	}
}

func TestCredentialLasts(t *testing.T) {
	start := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		until time.Time
		at    time.Duration
		want  bool
	}{
		{"unknown expiry at the start", time.Time{}, 0, true},
		{"unknown expiry after the start", time.Time{}, time.Second, false},
		{"well before the expiry", start.Add(time.Hour), 30 * time.Minute, true},
		{"within the margin", start.Add(time.Hour), time.Hour - credentialMargin, false},
		{"after the expiry", start.Add(time.Hour), 2 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &MediaSigner{opts: BatchOptions{CredentialUntil: tc.until}, start: start}
			if got := m.credentialLasts(start.Add(tc.at)); got != tc.want {
				t.Fatalf("credentialLasts(start + %s) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}
