package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
)

// CachedURL returns the cached URL stored under key.
func (s *Store) CachedURL(ctx context.Context, key string) (*mediasign.CachedURL, error) {
	var (
		u                mediasign.CachedURL
		headers          string
		expires, created int64
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT cache_key, url, headers, expires_at,
		created_at FROM url_cache WHERE cache_key = ?`), key).
		Scan(&u.Key, &u.URL, &headers, &expires, &created)
	if err != nil {
		return nil, s.mapErr(err, "cached URL")
	}

	if headers != "" {
		if err := json.Unmarshal([]byte(headers), &u.Headers); err != nil {
			return nil, fmt.Errorf("decode cached URL headers: %w", err)
		}
	}
	u.ExpiresAt, u.CreatedAt = fromUnix(expires), fromUnix(created)
	return &u, nil
}

// PutCachedURL inserts or replaces the entry for u.Key.
func (s *Store) PutCachedURL(ctx context.Context, u *mediasign.CachedURL) error {
	headers := ""
	if len(u.Headers) > 0 {
		b, err := json.Marshal(u.Headers)
		if err != nil {
			return fmt.Errorf("encode cached URL headers: %w", err)
		}
		headers = string(b)
	}

	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO url_cache (cache_key, url, headers,
		expires_at, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (cache_key) DO UPDATE SET url = excluded.url,
		headers = excluded.headers, expires_at = excluded.expires_at,
		created_at = excluded.created_at`),
		u.Key, u.URL, headers, unix(u.ExpiresAt), unix(u.CreatedAt))
	return s.mapErr(err, "cached URL")
}

// DeleteExpiredURLs removes entries that expire before t.
func (s *Store) DeleteExpiredURLs(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		s.q(`DELETE FROM url_cache WHERE expires_at < ?`), unix(t))
	if err != nil {
		return 0, s.mapErr(err, "cached URLs")
	}
	return res.RowsAffected()
}
