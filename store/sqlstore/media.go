package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

// batchChunk bounds the number of placeholders in one IN list.
const batchChunk = 500

const mediaColumns = `m.id, m.dataset_id, m.connection_id, m.bucket, m.object_key,
	m.media_type, m.size, m.thumb_key, m.created_at`

// AddMedia inserts the files a dataset does not hold yet, in one transaction.
func (s *Store) AddMedia(ctx context.Context, files []mediasign.MediaFile) (int, error) {
	if len(files) == 0 {
		return 0, nil
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin media insert: %w", err)
	}
	defer tx.Rollback()

	stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO media (dataset_id, connection_id,
		bucket, object_key, media_type, size, thumb_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dataset_id, connection_id, bucket, object_key) DO NOTHING`))
	if err != nil {
		return 0, fmt.Errorf("prepare media insert: %w", err)
	}
	defer stmt.Close()

	now := unix(time.Now())
	added := 0
	for _, f := range files {
		res, err := stmt.ExecContext(ctx, f.DatasetID, f.ConnectionID, f.Bucket, f.Key,
			f.MediaType, f.Size, f.ThumbKey, now)
		if err != nil {
			return 0, s.mapErr(err, fmt.Sprintf("media %q", f.Key))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("count inserted media: %w", err)
		}
		added += int(n)
	}

	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit media insert: %w", err)
	}
	return added, nil
}

// Media returns one media file with its connection's revision.
func (s *Store) Media(ctx context.Context, id int64) (*mediasign.MediaRef, error) {
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+mediaColumns+`, c.revision
		FROM media m JOIN connections c ON c.id = m.connection_id WHERE m.id = ?`), id)
	m, err := scanMediaRef(row)
	return m, s.mapErr(err, fmt.Sprintf("media %d", id))
}

// MediaBatch returns the media files with the given ids that exist.
func (s *Store) MediaBatch(ctx context.Context, ids []int64) ([]*mediasign.MediaRef, error) {
	out := make([]*mediasign.MediaRef, 0, len(ids))
	for start := 0; start < len(ids); start += batchChunk {
		chunk := ids[start:min(start+batchChunk, len(ids))]
		refs, err := s.mediaChunk(ctx, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, refs...)
	}
	return out, nil
}

func (s *Store) mediaChunk(ctx context.Context, ids []int64) ([]*mediasign.MediaRef, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	query := s.q(`SELECT ` + mediaColumns + `, c.revision FROM media m
		JOIN connections c ON c.id = m.connection_id WHERE m.id IN (` + marks + `)`)

	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.mapErr(err, "media")
	}
	defer rows.Close()

	out := make([]*mediasign.MediaRef, 0, len(ids))
	for rows.Next() {
		m, err := scanMediaRef(rows)
		if err != nil {
			return nil, s.mapErr(err, "media")
		}
		out = append(out, m)
	}
	return out, s.mapErr(rows.Err(), "media")
}

// ListMedia returns up to limit files of a dataset after afterID, in ID order.
func (s *Store) ListMedia(ctx context.Context, datasetID, afterID int64, limit int) ([]*mediasign.MediaFile, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+mediaColumns+` FROM media m
		WHERE m.dataset_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`), datasetID, afterID, limit)
	if err != nil {
		return nil, s.mapErr(err, "media")
	}
	defer rows.Close()

	out := make([]*mediasign.MediaFile, 0, limit)
	for rows.Next() {
		var f mediasign.MediaFile
		if err := scanMedia(rows, &f); err != nil {
			return nil, s.mapErr(err, "media")
		}
		out = append(out, &f)
	}
	return out, s.mapErr(rows.Err(), "media")
}

// CountMedia returns the number of files in a dataset.
func (s *Store) CountMedia(ctx context.Context, datasetID int64) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx,
		s.q(`SELECT COUNT(*) FROM media WHERE dataset_id = ?`), datasetID).Scan(&n)
	return n, s.mapErr(err, "media")
}

// DatasetsWithObject returns the ids of the datasets that hold the object.
func (s *Store) DatasetsWithObject(ctx context.Context, connectionID int64, bucket,
	key string) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT dataset_id FROM media
		WHERE connection_id = ? AND bucket = ? AND object_key = ? ORDER BY dataset_id`),
		connectionID, bucket, key)
	if err != nil {
		return nil, s.mapErr(err, "media")
	}
	defer rows.Close()

	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, s.mapErr(err, "media")
		}
		ids = append(ids, id)
	}
	return ids, s.mapErr(rows.Err(), "media")
}

func scanMedia(row scanner, f *mediasign.MediaFile, extra ...any) error {
	var created int64
	dest := append([]any{&f.ID, &f.DatasetID, &f.ConnectionID, &f.Bucket, &f.Key,
		&f.MediaType, &f.Size, &f.ThumbKey, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	f.CreatedAt = fromUnix(created)
	return nil
}

func scanMediaRef(row scanner) (*mediasign.MediaRef, error) {
	var m mediasign.MediaRef
	if err := scanMedia(row, &m.MediaFile, &m.ConnectionRevision); err != nil {
		return nil, err
	}
	return &m, nil
}
