package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mediasign/mediasign"
)

var _ mediasign.URLCacheBatchStore = (*Store)(nil)

// putChunk is how many cached URLs one INSERT statement writes.
const putChunk = 100

// CachedURLs returns the entries stored under keys, in no particular order.
func (s *Store) CachedURLs(ctx context.Context, keys []string) ([]*mediasign.CachedURL, error) {
	out := make([]*mediasign.CachedURL, 0, len(keys))
	for start := 0; start < len(keys); start += batchChunk {
		chunk := keys[start:min(start+batchChunk, len(keys))]
		var err error
		if out, err = s.cachedChunk(ctx, chunk, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) cachedChunk(ctx context.Context, keys []string,
	out []*mediasign.CachedURL) ([]*mediasign.CachedURL, error) {
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(keys)), ",")
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT cache_key, url, headers, expires_at,
		created_at FROM url_cache WHERE cache_key IN (`+marks+`)`), args...)
	if err != nil {
		return nil, s.mapErr(err, "cached URLs")
	}
	defer rows.Close()

	for rows.Next() {
		var (
			u                mediasign.CachedURL
			headers          string
			expires, created int64
		)
		if err := rows.Scan(&u.Key, &u.URL, &headers, &expires, &created); err != nil {
			return nil, s.mapErr(err, "cached URLs")
		}
		if headers != "" {
			if err := json.Unmarshal([]byte(headers), &u.Headers); err != nil {
				return nil, fmt.Errorf("decode cached URL headers: %w", err)
			}
		}
		u.ExpiresAt, u.CreatedAt = fromUnix(expires), fromUnix(created)
		out = append(out, &u)
	}
	return out, s.mapErr(rows.Err(), "cached URLs")
}

// PutCachedURLs inserts or replaces the entries, in one transaction. When a
// key appears twice, the later entry wins.
func (s *Store) PutCachedURLs(ctx context.Context, us []*mediasign.CachedURL) error {
	us = lastPerKey(us)
	if len(us) == 0 {
		return nil
	}
	return s.inTx(ctx, "cached URL batch", func(tx *sql.Tx) error {
		full, err := tx.PrepareContext(ctx, s.putStatement(putChunk))
		if err != nil {
			return fmt.Errorf("prepare cached URL batch: %w", err)
		}
		defer full.Close()

		for start := 0; start < len(us); start += putChunk {
			chunk := us[start:min(start+putChunk, len(us))]
			if err := s.putChunk(ctx, tx, full, chunk); err != nil {
				return err
			}
		}
		return nil
	})
}

// putChunk writes up to putChunk entries with one statement.
func (s *Store) putChunk(ctx context.Context, tx *sql.Tx, full *sql.Stmt,
	chunk []*mediasign.CachedURL) error {
	args := make([]any, 0, 5*len(chunk))
	for _, u := range chunk {
		headers, err := encodeHeaders(u.Headers)
		if err != nil {
			return err
		}
		args = append(args, u.Key, u.URL, headers, unix(u.ExpiresAt), unix(u.CreatedAt))
	}

	var err error
	if len(chunk) == putChunk {
		_, err = full.ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, s.putStatement(len(chunk)), args...)
	}
	return s.mapErr(err, "cached URLs")
}

// putStatement is an upsert of n rows.
func (s *Store) putStatement(n int) string {
	rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?),", n), ",")
	return s.q(`INSERT INTO url_cache (cache_key, url, headers, expires_at, created_at)
		VALUES ` + rows + ` ON CONFLICT (cache_key) DO UPDATE SET url = excluded.url,
		headers = excluded.headers, expires_at = excluded.expires_at,
		created_at = excluded.created_at`)
}

// encodeHeaders stores no headers as the empty string.
func encodeHeaders(h map[string]string) (string, error) {
	if len(h) == 0 {
		return "", nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode cached URL headers: %w", err)
	}
	return string(b), nil
}

// lastPerKey drops every entry that a later one with the same key replaces,
// since one upsert statement may not touch a row twice.
func lastPerKey(us []*mediasign.CachedURL) []*mediasign.CachedURL {
	last := make(map[string]int, len(us))
	for i, u := range us {
		last[u.Key] = i
	}
	if len(last) == len(us) {
		return us
	}
	out := make([]*mediasign.CachedURL, 0, len(last))
	for i, u := range us {
		if last[u.Key] == i {
			out = append(out, u)
		}
	}
	return out
}
