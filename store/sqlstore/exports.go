package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

const exportColumns = `id, project_id, dataset_ids, format, state, total, written, resigned,
	min_expires_at, file_size, error, owner, heartbeat_at, created_by, created_at, finished_at, object_key`

// CreateExport stores e as running and sets its ID and creation time.
func (s *Store) CreateExport(ctx context.Context, e *mediasign.Export) error {
	ids, err := json.Marshal(e.DatasetIDs)
	if err != nil {
		return fmt.Errorf("encode export dataset ids: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	heartbeat := e.HeartbeatAt
	if heartbeat.IsZero() {
		heartbeat = now
	}

	err = s.db.QueryRowContext(ctx, s.q(`INSERT INTO exports (project_id, dataset_ids, format,
		state, total, owner, heartbeat_at, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), e.ProjectID, string(ids),
		string(e.Format), string(mediasign.ExportRunning), e.Total, e.Owner, unix(heartbeat),
		sql.NullInt64{Int64: e.CreatedBy, Valid: e.CreatedBy != 0}, unix(now)).Scan(&e.ID)
	if err != nil {
		return s.mapErr(err, "export")
	}
	e.State, e.CreatedAt = mediasign.ExportRunning, now
	e.HeartbeatAt = heartbeat.UTC().Truncate(time.Second)
	return nil
}

// Export returns the export with id.
func (s *Store) Export(ctx context.Context, id int64) (*mediasign.Export, error) {
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+exportColumns+` FROM exports WHERE id = ?`), id)
	e, err := scanExport(row)
	return e, s.mapErr(err, fmt.Sprintf("export %d", id))
}

// ListExports returns the exports of a project, newest first.
func (s *Store) ListExports(ctx context.Context, projectID int64) ([]*mediasign.Export, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+exportColumns+` FROM exports
		WHERE project_id = ? ORDER BY id DESC`), projectID)
	if err != nil {
		return nil, s.mapErr(err, "exports")
	}
	defer rows.Close()

	var out []*mediasign.Export
	for rows.Next() {
		e, err := scanExport(rows)
		if err != nil {
			return nil, s.mapErr(err, "exports")
		}
		out = append(out, e)
	}
	return out, s.mapErr(rows.Err(), "exports")
}

// UpdateExportProgress records the progress and heartbeat of a running
// export.
func (s *Store) UpdateExportProgress(ctx context.Context, id, written int64, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE exports SET written = ?, heartbeat_at = ?
		WHERE id = ? AND state = ?`), written, unix(at), id, string(mediasign.ExportRunning))
	return s.oneRow(res, err, fmt.Sprintf("running export %d", id))
}

// FinishExport ends a running export with the outcome that e holds.
func (s *Store) FinishExport(ctx context.Context, e *mediasign.Export) error {
	if e.State != mediasign.ExportDone && e.State != mediasign.ExportFailed {
		return fmt.Errorf("finish export %d: state %q is not an end state", e.ID, e.State)
	}
	finished := e.FinishedAt
	if finished.IsZero() {
		finished = time.Now()
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE exports SET state = ?, total = ?, written = ?,
		resigned = ?, min_expires_at = ?, file_size = ?, error = ?, heartbeat_at = ?,
		finished_at = ?, object_key = ? WHERE id = ? AND state = ?`), string(e.State), e.Total,
		e.Written, e.Resigned, unixOrZero(e.MinExpiresAt), e.Size, e.Error, unix(finished),
		unix(finished), e.ObjectKey, e.ID, string(mediasign.ExportRunning))
	return s.oneRow(res, err, fmt.Sprintf("running export %d", e.ID))
}

// DeleteExport removes an export.
func (s *Store) DeleteExport(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM exports WHERE id = ?`), id)
	return s.oneRow(res, err, fmt.Sprintf("export %d", id))
}

// FailStaleExports marks failed the running exports whose last heartbeat
// is before staleBefore, and returns their ids.
func (s *Store) FailStaleExports(ctx context.Context, staleBefore time.Time, reason string,
	at time.Time) ([]int64, error) {
	var ids []int64
	err := s.inTx(ctx, "failing stale exports", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM exports
			WHERE state = ? AND heartbeat_at < ? ORDER BY id`),
			string(mediasign.ExportRunning), unix(staleBefore))
		if err != nil {
			return s.mapErr(err, "exports")
		}
		ids, err = scanIDs(rows)
		if err != nil {
			return s.mapErr(err, "exports")
		}

		for _, id := range ids {
			_, err := tx.ExecContext(ctx, s.q(`UPDATE exports SET state = ?, error = ?,
				finished_at = ? WHERE id = ? AND state = ?`), string(mediasign.ExportFailed),
				reason, unix(at), id, string(mediasign.ExportRunning))
			if err != nil {
				return s.mapErr(err, fmt.Sprintf("export %d", id))
			}
		}
		return nil
	})
	return ids, err
}

// MediaSnapshot returns how many media files a dataset holds and their
// highest id.
func (s *Store) MediaSnapshot(ctx context.Context, datasetID int64) (int64, int64, error) {
	var count, last int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COALESCE(MAX(id), 0) FROM media
		WHERE dataset_id = ?`), datasetID).Scan(&count, &last)
	return count, last, s.mapErr(err, "media")
}

// MediaPage appends a page of a dataset's media files, with their
// connections' revisions, to buf. The revisions are read once per page
// rather than joined to every row, which halves the cost of a page.
func (s *Store) MediaPage(ctx context.Context, datasetID, afterID, throughID int64, limit int,
	buf []mediasign.MediaRef) ([]mediasign.MediaRef, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+mediaColumns+` FROM media m
		WHERE m.dataset_id = ? AND m.id > ? AND m.id <= ? ORDER BY m.id LIMIT ?`),
		datasetID, afterID, throughID, limit)
	if err != nil {
		return buf, s.mapErr(err, "media")
	}
	defer rows.Close()

	start := len(buf)
	for rows.Next() {
		var m mediasign.MediaRef
		if err := scanMedia(rows, &m.MediaFile); err != nil {
			return buf, s.mapErr(err, "media")
		}
		buf = append(buf, m)
	}
	if err := rows.Err(); err != nil {
		return buf, s.mapErr(err, "media")
	}
	return buf, s.fillRevisions(ctx, buf[start:])
}

// fillRevisions sets the connection revision of each media file.
func (s *Store) fillRevisions(ctx context.Context, refs []mediasign.MediaRef) error {
	revisions := make(map[int64]int64)
	var ids []any
	for _, m := range refs {
		if _, ok := revisions[m.ConnectionID]; !ok {
			revisions[m.ConnectionID] = 0
			ids = append(ids, m.ConnectionID)
		}
	}
	if len(ids) == 0 {
		return nil
	}

	marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, revision FROM connections
		WHERE id IN (`+marks+`)`), ids...)
	if err != nil {
		return s.mapErr(err, "connections")
	}
	defer rows.Close()
	for rows.Next() {
		var id, rev int64
		if err := rows.Scan(&id, &rev); err != nil {
			return s.mapErr(err, "connections")
		}
		revisions[id] = rev
	}
	if err := rows.Err(); err != nil {
		return s.mapErr(err, "connections")
	}

	for i := range refs {
		refs[i].ConnectionRevision = revisions[refs[i].ConnectionID]
	}
	return nil
}

func scanExport(row scanner) (*mediasign.Export, error) {
	var (
		e                              mediasign.Export
		ids, format, state             string
		minExpires, heartbeat, created int64
		finished                       int64
		createdBy                      sql.NullInt64
	)
	err := row.Scan(&e.ID, &e.ProjectID, &ids, &format, &state, &e.Total, &e.Written,
		&e.Resigned, &minExpires, &e.Size, &e.Error, &e.Owner, &heartbeat, &createdBy,
		&created, &finished, &e.ObjectKey)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ids), &e.DatasetIDs); err != nil {
		return nil, fmt.Errorf("decode dataset ids of export %d: %w", e.ID, err)
	}

	e.Format, e.State, e.CreatedBy = mediasign.ExportFormat(format), mediasign.ExportState(state),
		createdBy.Int64
	e.MinExpiresAt, e.FinishedAt = fromUnixOrZero(minExpires), fromUnixOrZero(finished)
	e.HeartbeatAt, e.CreatedAt = fromUnix(heartbeat), fromUnix(created)
	return &e, nil
}

func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// unixOrZero stores the zero time as 0.
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return unix(t)
}

// fromUnixOrZero reads 0 as the zero time.
func fromUnixOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return fromUnix(sec)
}
