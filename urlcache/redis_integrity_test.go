package urlcache_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/testenv/redistest"
	"github.com/mediasign/mediasign/urlcache"
)

// TestSharedEntriesAreAuthenticated changes an entry in Redis the way
// someone with access to it could: the changed entry is never served.
func TestSharedEntriesAreAuthenticated(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	clock := mediasign.SystemClock{}
	signer := &slowSigner{clock: clock}
	ctx := context.Background()

	first := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	good, err := first.cache.Get(ctx, "media-1", signer.sign)
	if err != nil {
		t.Fatal(err)
	}

	keys := redistest.Keys(t, redisURL, prefix)
	var entryKey string
	for _, k := range keys {
		if strings.Contains(k, ":url:") {
			entryKey = k
		}
	}
	if entryKey == "" {
		t.Fatalf("no entry in Redis after signing: keys %q", keys)
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	defer client.Close()

	tamper := func(edit func(map[string]any)) {
		t.Helper()
		raw, err := client.Get(ctx, entryKey).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		var e map[string]any
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		edit(e)
		b, _ := json.Marshal(e)
		if err := client.Set(ctx, entryKey, b, redis.KeepTTL).Err(); err != nil {
			t.Fatal(err)
		}
	}

	cases := map[string]func(map[string]any){
		"another URL": func(e map[string]any) { e["url"] = "https://evil.example/phish.png" },
		"a later expiry": func(e map[string]any) {
			e["expires_at"] = time.Now().Add(3 * 365 * 24 * time.Hour).Format(time.RFC3339)
		},
		"no MAC": func(e map[string]any) { delete(e, "mac") },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			tamper(edit)
			fresh := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
			got, err := fresh.cache.Get(ctx, "media-1", signer.sign)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got.URL, "evil") || got.ExpiresAt.After(time.Now().Add(sharedPolicy.NewValid)) {
				t.Fatalf("a changed Redis entry was served: %s until %s", got.URL, got.ExpiresAt)
			}
			if got.Source == urlcache.FromShared {
				t.Fatalf("a changed Redis entry was served from the shared tier")
			}
		})
	}
	_ = good
}

// TestSharedEntriesBeyondNAreRefused puts an authentic entry that claims a
// validity no URL of this installation can have: it is not served.
func TestSharedEntriesBeyondNAreRefused(t *testing.T) {
	redisURL, prefix := redistest.URL(t)
	clock := mediasign.SystemClock{}
	ctx := context.Background()

	tier, err := urlcache.NewRedisTier(redisURL, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tier.Close()
	far := time.Now().Add(10 * sharedPolicy.NewValid)
	err = tier.Put(ctx, &mediasign.CachedURL{Key: "media-2", URL: "https://example.test/too-long",
		ExpiresAt: far, CreatedAt: time.Now()}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	r := newReplica(t, replicaOptions{redisURL: redisURL, prefix: prefix, clock: clock})
	signer := &slowSigner{clock: clock}
	got, err := r.cache.Get(ctx, "media-2", signer.sign)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL == "https://example.test/too-long" {
		t.Fatalf("an entry valid beyond N was served")
	}
}
