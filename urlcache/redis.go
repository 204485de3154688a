package urlcache

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/mediasign/mediasign"
)

// Timeouts of Redis calls when the URL sets none: the shared tier is a
// shortcut, so waiting long for it costs more than going without it.
const (
	redisDialTimeout = time.Second
	redisIOTimeout   = 500 * time.Millisecond
)

// Scripts that touch a lock only while the caller's token holds it, so a
// holder whose lock expired cannot free or extend the next holder's.
var (
	unlockScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then
	return redis.call("del", KEYS[1]) end return 0`)
	extendScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then
	return redis.call("pexpire", KEYS[1], ARGV[2]) end return 0`)
)

// RedisTier is a SharedTier on Redis. Its keys are the prefix followed by
// the SHA-256 of the cache key, short whatever the object key's length.
type RedisTier struct {
	client *redis.Client
	prefix string

	// macKey authenticates entries, so that an entry written by anyone but
	// this installation, or changed in Redis, is never served.
	macKey []byte
}

var _ SharedTier = (*RedisTier)(nil)

// NewRedisTier connects lazily to the Redis at redisURL (redis://,
// rediss:// or unix://) and keeps its keys under prefix. Timeouts, pool
// size and retries may be set in the URL's query (dial_timeout,
// read_timeout, write_timeout, pool_size, max_retries).
func NewRedisTier(redisURL, prefix string, logger *slog.Logger) (*RedisTier, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("parse the Redis URL: give redis://[:PASSWORD@]HOST:PORT/DB " +
			"or rediss:// for TLS")
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = redisDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = redisIOTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = redisIOTimeout
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 1
	}
	if opts.DialerRetries == 0 {
		opts.DialerRetries = 1
	}
	opts.MaintNotificationsConfig = &maintnotifications.Config{
		Mode: maintnotifications.ModeDisabled}

	routeRedisLogs(logger)
	// Until SetIntegrityKey gives the installation's secret, entries are
	// authenticated with a key derived from the prefix: that catches changes
	// by accident, not by someone who knows the prefix.
	macKey := sha256.Sum256([]byte("mediasign redis entries " + prefix))
	return &RedisTier{client: redis.NewClient(opts), prefix: prefix, macKey: macKey[:]}, nil
}

// SetIntegrityKey sets the secret that authenticates entries; every replica
// of an installation must use the same one. Call it before the tier is used.
func (r *RedisTier) SetIntegrityKey(key []byte) {
	r.macKey = bytes.Clone(key)
}

// redisEntry is the stored form of a cached URL; its Redis key names the
// cache key.
type redisEntry struct {
	URL       string            `json:"url"`
	ExpiresAt time.Time         `json:"expires_at"`
	Headers   map[string]string `json:"headers,omitempty"`
	CreatedAt time.Time         `json:"created_at"`

	// MAC is the HMAC-SHA256 of the cache key and the fields above.
	MAC []byte `json:"mac"`
}

// mac authenticates e as the entry of key. Each field goes in with its
// length, so no two entries share a message.
func (r *RedisTier) mac(key string, e *redisEntry) []byte {
	h := hmac.New(sha256.New, r.macKey)
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(key)
	field(e.URL)
	field(e.ExpiresAt.UTC().Format(time.RFC3339Nano))
	field(e.CreatedAt.UTC().Format(time.RFC3339Nano))
	names := make([]string, 0, len(e.Headers))
	for k := range e.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		field(k)
		field(e.Headers[k])
	}
	return h.Sum(nil)
}

// Get returns the entry for key, or nil when there is none.
func (r *RedisTier) Get(ctx context.Context, key string) (*mediasign.CachedURL, error) {
	b, err := r.client.Get(ctx, r.entryKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read shared url cache: %w", err)
	}

	var e redisEntry
	if err := json.Unmarshal(b, &e); err != nil || e.URL == "" {
		// Not an entry this build wrote: treat it as absent.
		return nil, nil
	}
	if !hmac.Equal(e.MAC, r.mac(key, &e)) {
		// Written by someone else or changed since: never served, and
		// replaced by the next good entry.
		return nil, nil
	}
	return &mediasign.CachedURL{Key: key, URL: e.URL, ExpiresAt: e.ExpiresAt,
		Headers: e.Headers, CreatedAt: e.CreatedAt}, nil
}

// Put keeps u for ttl, rounded down to whole milliseconds.
func (r *RedisTier) Put(ctx context.Context, u *mediasign.CachedURL, ttl time.Duration) error {
	ttl = ttl.Truncate(time.Millisecond)
	if ttl <= 0 {
		return nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	e := redisEntry{URL: u.URL, ExpiresAt: u.ExpiresAt, Headers: u.Headers, CreatedAt: u.CreatedAt}
	e.MAC = r.mac(u.Key, &e)
	err := enc.Encode(e)
	if err != nil {
		return fmt.Errorf("encode shared url cache entry: %w", err)
	}
	if err := r.client.Set(ctx, r.entryKey(u.Key), b.Bytes(), ttl).Err(); err != nil {
		return fmt.Errorf("write shared url cache: %w", err)
	}
	return nil
}

// Lock takes the signing lock of key for ttl unless someone holds it.
func (r *RedisTier) Lock(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	token, err := newToken()
	if err != nil {
		return "", false, err
	}
	ok, err := r.client.SetNX(ctx, r.lockKey(key), token, ttl).Result()
	if err != nil {
		return "", false, fmt.Errorf("lock shared url cache entry: %w", err)
	}
	return token, ok, nil
}

// Extend keeps the lock of key for ttl more while token holds it.
func (r *RedisTier) Extend(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	n, err := extendScript.Run(ctx, r.client, []string{r.lockKey(key)}, token,
		ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("extend shared url cache lock: %w", err)
	}
	return n == 1, nil
}

// Unlock frees the lock of key if token holds it.
func (r *RedisTier) Unlock(ctx context.Context, key, token string) error {
	if err := unlockScript.Run(ctx, r.client, []string{r.lockKey(key)}, token).Err(); err != nil {
		return fmt.Errorf("unlock shared url cache entry: %w", err)
	}
	return nil
}

// Ping checks that Redis answers.
func (r *RedisTier) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Close closes the connections to Redis.
func (r *RedisTier) Close() error { return r.client.Close() }

func (r *RedisTier) entryKey(key string) string { return r.prefix + "url:" + hashKey(key) }

func (r *RedisTier) lockKey(key string) string { return r.prefix + "lock:" + hashKey(key) }

func hashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make lock token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

var redisLogOnce sync.Once

// routeRedisLogs sends the Redis client's own messages, such as failed
// dials, to logger at debug level: the shared tier logs each outage once
// itself. The client has one logger per process; the first one set stays.
func routeRedisLogs(logger *slog.Logger) {
	if logger == nil {
		return
	}
	redisLogOnce.Do(func() { redis.SetLogger(redisLog{logger}) })
}

type redisLog struct{ logger *slog.Logger }

// Printf logs one message of the Redis client.
func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.logger.DebugContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
