package sqlstore

import (
	"context"
	"fmt"
)

// Setting returns the value stored under name.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx,
		s.q(`SELECT value FROM settings WHERE name = ?`), name).Scan(&v)
	return v, s.mapErr(err, fmt.Sprintf("setting %q", name))
}

// SetSetting stores value under name, replacing what was there.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, value)
	return s.mapErr(err, fmt.Sprintf("setting %q", name))
}

// SetSettingIfAbsent stores value under name unless name exists.
func (s *Store) SetSettingIfAbsent(ctx context.Context, name, value string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`), name, value)
	if err != nil {
		return false, s.mapErr(err, fmt.Sprintf("setting %q", name))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("count stored settings: %w", err)
	}
	return n == 1, nil
}
