package mediatype

import "testing"

func TestFromKey(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		{"a/b/photo.JPG", "image/jpeg"},
		{"video.mp4", "video/mp4"},
		{"scan.webp", "image/webp"},
		{"noext", Default},
		{"dir.v2/file", Default},
		{"weird.zzzunknown", Default},
		{"notes/a#1?.txt", "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := FromKey(tt.key); got != tt.want {
				t.Errorf("FromKey(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}
