// Package redistest gives each test a key prefix of its own in the test
// Redis, and deletes the test's keys when it ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the variable holding the test Redis URL, for example
// redis://127.0.0.1:6379/0.
const EnvURL = "MEDIASIGN_TEST_REDIS_URL"

// URL returns the test Redis URL and a new key prefix whose keys are
// deleted when the test ends. It skips the test when EnvURL is unset.
func URL(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	redisURL = os.Getenv(EnvURL)
	if redisURL == "" {
		t.Skipf("skipping: %s is not set (for example redis://127.0.0.1:6379/0)", EnvURL)
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("%s is not a redis:// URL: %v", EnvURL, err)
	}

	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	prefix = "mediasign-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() { deletePrefix(t, opts, prefix) })
	return redisURL, prefix
}

// Keys returns the keys under prefix.
func Keys(t testing.TB, redisURL, prefix string) []string {
	t.Helper()
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := scan(opts, prefix)
	if err != nil {
		t.Fatalf("scan test redis: %v", err)
	}
	return keys
}

func deletePrefix(t testing.TB, opts *redis.Options, prefix string) {
	t.Helper()
	keys, err := scan(opts, prefix)
	if err != nil || len(keys) == 0 {
		if err != nil {
			t.Errorf("clean test redis: %v", err)
		}
		return
	}

	client := redis.NewClient(opts)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.Del(ctx, keys...).Err(); err != nil {
		t.Errorf("clean test redis: %v", err)
	}
}

func scan(opts *redis.Options, prefix string) ([]string, error) {
	client := redis.NewClient(opts)
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}
