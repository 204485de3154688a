package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/store/postgres"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/store/sqlstore"
	"github.com/mediasign/mediasign/urlcache"
)

// settingInstallation names the setting that holds the random ID of an
// installation, which prefixes its keys in a shared Redis.
const settingInstallation = "installation_id"

// settingRedisEntryKey names the setting that holds the secret with which
// replicas authenticate the URLs they share through Redis.
const settingRedisEntryKey = "redis_entry_key"

// redisCheckTimeout bounds the start-up check of Redis.
const redisCheckTimeout = 2 * time.Second

// openStore opens the state backend that the database URL's scheme names.
func openStore(ctx context.Context, cfg config.Config) (*sqlstore.Store, error) {
	if cfg.Backend() != config.BackendPostgres {
		return sqlite.Open(ctx, cfg.SQLitePath())
	}
	st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{
		MaxConns: cfg.Pool.MaxConns, MaxIdleConns: cfg.Pool.MaxIdleConns,
		ConnMaxLifetime: cfg.Pool.ConnMaxLifetime})
	if err != nil {
		return nil, fmt.Errorf("open the database of %s (check the URL and that the "+
			"database answers): %w", config.EnvDatabaseURL, err)
	}
	return st, nil
}

// openCache builds the URL cache, with the shared Redis tier when one is
// configured. Redis being unreachable at start is logged, not fatal: the
// cache works without it and uses it once it answers.
func (a *App) openCache(ctx context.Context, st mediasign.Store) error {
	opts := urlcache.Options{Policy: a.Config.Policy, Store: st, Clock: a.Clock,
		Logger: a.Logger.With("component", "urlcache"), MemoryEntries: a.Config.MemoryCacheEntries,
		Metrics: a.Metrics}
	if a.Config.Redis.URL == "" {
		a.Cache = urlcache.New(opts)
		return nil
	}

	prefix, err := redisPrefix(ctx, st, a.Config.Redis.KeyPrefix)
	if err != nil {
		return err
	}
	tier, err := urlcache.NewRedisTier(a.Config.Redis.URL, prefix,
		a.Logger.With("component", "redis"))
	if err != nil {
		return fmt.Errorf("%s: %w", config.EnvRedisURL, err)
	}
	secret, err := sharedSecret(ctx, st, settingRedisEntryKey)
	if err != nil {
		return err
	}
	tier.SetIntegrityKey(secret)
	a.redis, opts.Shared = tier, tier
	a.Cache = urlcache.New(opts)

	check, cancel := context.WithTimeout(ctx, redisCheckTimeout)
	defer cancel()
	_, _ = a.Cache.CheckShared(check)
	return nil
}

// sharedSecret returns the random secret stored under name, which the first
// replica to start makes.
func sharedSecret(ctx context.Context, st mediasign.SettingStore, name string) ([]byte, error) {
	v, err := randomSetting(ctx, st, name, 32)
	if err != nil {
		return nil, err
	}
	secret, err := hex.DecodeString(v)
	if err != nil || len(secret) < 16 {
		return nil, fmt.Errorf("setting %s is damaged: delete it so a new one is made", name)
	}
	return secret, nil
}

// redisPrefix returns the configured key prefix, or one made of the
// installation's ID, which the first replica to start stores.
func redisPrefix(ctx context.Context, st mediasign.SettingStore, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	id, err := randomSetting(ctx, st, settingInstallation, 8)
	if err != nil {
		return "", err
	}
	return "mediasign:" + id + ":", nil
}

// randomSetting returns the value of the setting name, storing n random
// bytes in hex there first unless another process already has: every
// replica reads the value the first one stored.
func randomSetting(ctx context.Context, st mediasign.SettingStore, name string, n int) (string, error) {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	if _, err := st.SetSettingIfAbsent(ctx, name, hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("store setting %s: %w", name, err)
	}
	v, err := st.Setting(ctx, name)
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return v, nil
}
