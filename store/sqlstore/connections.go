package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
)

// connectionConfig is the JSON form of a connection's provider and custom
// signer settings.
type connectionConfig struct {
	S3     *mediasign.S3Config     `json:"s3,omitempty"`
	Local  *mediasign.LocalConfig  `json:"local,omitempty"`
	Signer *mediasign.SignerConfig `json:"signer,omitempty"`
}

const connectionColumns = `id, name, provider, config, revision, created_at, updated_at`

// CreateConnection stores c and sets its ID, revision and times.
func (s *Store) CreateConnection(ctx context.Context, c *mediasign.Connection) error {
	cfg, err := json.Marshal(connectionConfig{S3: c.S3, Local: c.Local, Signer: c.Signer})
	if err != nil {
		return fmt.Errorf("encode connection config: %w", err)
	}

	now := time.Now().UTC().Truncate(time.Second)
	query := s.q(`INSERT INTO connections (name, provider, config, revision, created_at,
		updated_at) VALUES (?, ?, ?, 1, ?, ?) RETURNING id`)
	err = s.db.QueryRowContext(ctx, query, c.Name, string(c.Provider), string(cfg),
		unix(now), unix(now)).Scan(&c.ID)
	if err != nil {
		return s.mapErr(err, fmt.Sprintf("connection %q", c.Name))
	}

	c.Revision, c.CreatedAt, c.UpdatedAt = 1, now, now
	return nil
}

// UpdateConnection replaces the settings of connection c.ID and increments
// its revision.
func (s *Store) UpdateConnection(ctx context.Context, c *mediasign.Connection) error {
	cfg, err := json.Marshal(connectionConfig{S3: c.S3, Local: c.Local, Signer: c.Signer})
	if err != nil {
		return fmt.Errorf("encode connection config: %w", err)
	}

	now := time.Now().UTC().Truncate(time.Second)
	query := s.q(`UPDATE connections SET name = ?, provider = ?, config = ?,
		revision = revision + 1, updated_at = ? WHERE id = ? RETURNING revision`)
	err = s.db.QueryRowContext(ctx, query, c.Name, string(c.Provider), string(cfg),
		unix(now), c.ID).Scan(&c.Revision)
	if err != nil {
		return s.mapErr(err, fmt.Sprintf("connection %q", c.Name))
	}

	c.UpdatedAt = now
	return nil
}

// Connection returns the connection with id.
func (s *Store) Connection(ctx context.Context, id int64) (*mediasign.Connection, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT `+connectionColumns+` FROM connections WHERE id = ?`), id)
	c, err := scanConnection(row)
	return c, s.mapErr(err, fmt.Sprintf("connection %d", id))
}

// ConnectionByName returns the connection called name.
func (s *Store) ConnectionByName(ctx context.Context, name string) (*mediasign.Connection, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT `+connectionColumns+` FROM connections WHERE name = ?`), name)
	c, err := scanConnection(row)
	return c, s.mapErr(err, fmt.Sprintf("connection %q", name))
}

// ListConnections returns every connection in name order.
func (s *Store) ListConnections(ctx context.Context) ([]*mediasign.Connection, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+connectionColumns+` FROM connections ORDER BY name`)
	if err != nil {
		return nil, s.mapErr(err, "connections")
	}
	defer rows.Close()

	var out []*mediasign.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, s.mapErr(err, "connections")
		}
		out = append(out, c)
	}
	return out, s.mapErr(rows.Err(), "connections")
}

type scanner interface {
	Scan(dest ...any) error
}

func scanConnection(row scanner) (*mediasign.Connection, error) {
	var (
		c                mediasign.Connection
		provider, config string
		created, updated int64
	)
	err := row.Scan(&c.ID, &c.Name, &provider, &config, &c.Revision, &created, &updated)
	if err != nil {
		return nil, err
	}

	var cfg connectionConfig
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		return nil, fmt.Errorf("decode config of connection %q: %w", c.Name, err)
	}
	c.Provider = mediasign.Provider(provider)
	c.S3, c.Local, c.Signer = cfg.S3, cfg.Local, cfg.Signer
	c.CreatedAt, c.UpdatedAt = fromUnix(created), fromUnix(updated)
	return &c, nil
}
