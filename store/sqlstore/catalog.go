package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/mediasign/mediasign"
)

// CreateProject stores p and sets its ID and creation time.
func (s *Store) CreateProject(ctx context.Context, p *mediasign.Project) error {
	now := time.Now().UTC().Truncate(time.Second)
	err := s.db.QueryRowContext(ctx,
		s.q(`INSERT INTO projects (name, created_at) VALUES (?, ?) RETURNING id`),
		p.Name, unix(now)).Scan(&p.ID)
	if err != nil {
		return s.mapErr(err, fmt.Sprintf("project %q", p.Name))
	}
	p.CreatedAt = now
	return nil
}

// Project returns the project with id.
func (s *Store) Project(ctx context.Context, id int64) (*mediasign.Project, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT id, name, created_at FROM projects WHERE id = ?`), id)
	p, err := scanProject(row)
	return p, s.mapErr(err, fmt.Sprintf("project %d", id))
}

// ProjectByName returns the project called name.
func (s *Store) ProjectByName(ctx context.Context, name string) (*mediasign.Project, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT id, name, created_at FROM projects WHERE name = ?`), name)
	p, err := scanProject(row)
	return p, s.mapErr(err, fmt.Sprintf("project %q", name))
}

// ListProjects returns every project in name order.
func (s *Store) ListProjects(ctx context.Context) ([]*mediasign.Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM projects ORDER BY name`)
	if err != nil {
		return nil, s.mapErr(err, "projects")
	}
	defer rows.Close()

	var out []*mediasign.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, s.mapErr(err, "projects")
		}
		out = append(out, p)
	}
	return out, s.mapErr(rows.Err(), "projects")
}

func scanProject(row scanner) (*mediasign.Project, error) {
	var (
		p       mediasign.Project
		created int64
	)
	if err := row.Scan(&p.ID, &p.Name, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromUnix(created)
	return &p, nil
}

// CreateDataset stores d and sets its ID and creation time.
func (s *Store) CreateDataset(ctx context.Context, d *mediasign.Dataset) error {
	now := time.Now().UTC().Truncate(time.Second)
	err := s.db.QueryRowContext(ctx,
		s.q(`INSERT INTO datasets (project_id, name, created_at) VALUES (?, ?, ?) RETURNING id`),
		d.ProjectID, d.Name, unix(now)).Scan(&d.ID)
	if err != nil {
		return s.mapErr(err, fmt.Sprintf("dataset %q", d.Name))
	}
	d.CreatedAt = now
	return nil
}

const datasetColumns = `id, project_id, name, created_at`

// Dataset returns the dataset with id.
func (s *Store) Dataset(ctx context.Context, id int64) (*mediasign.Dataset, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT `+datasetColumns+` FROM datasets WHERE id = ?`), id)
	d, err := scanDataset(row)
	return d, s.mapErr(err, fmt.Sprintf("dataset %d", id))
}

// DatasetByName returns the dataset called name in a project.
func (s *Store) DatasetByName(ctx context.Context, projectID int64, name string) (*mediasign.Dataset, error) {
	row := s.db.QueryRowContext(ctx,
		s.q(`SELECT `+datasetColumns+` FROM datasets WHERE project_id = ? AND name = ?`),
		projectID, name)
	d, err := scanDataset(row)
	return d, s.mapErr(err, fmt.Sprintf("dataset %q", name))
}

// ListDatasets returns the datasets of a project in name order.
func (s *Store) ListDatasets(ctx context.Context, projectID int64) ([]*mediasign.Dataset, error) {
	rows, err := s.db.QueryContext(ctx,
		s.q(`SELECT `+datasetColumns+` FROM datasets WHERE project_id = ? ORDER BY name`),
		projectID)
	if err != nil {
		return nil, s.mapErr(err, "datasets")
	}
	defer rows.Close()

	var out []*mediasign.Dataset
	for rows.Next() {
		d, err := scanDataset(rows)
		if err != nil {
			return nil, s.mapErr(err, "datasets")
		}
		out = append(out, d)
	}
	return out, s.mapErr(rows.Err(), "datasets")
}

func scanDataset(row scanner) (*mediasign.Dataset, error) {
	var (
		d       mediasign.Dataset
		created int64
	)
	if err := row.Scan(&d.ID, &d.ProjectID, &d.Name, &created); err != nil {
		return nil, err
	}
	d.CreatedAt = fromUnix(created)
	return &d, nil
}

// ProjectOfMedia returns the project that holds the media file with id.
func (s *Store) ProjectOfMedia(ctx context.Context, id int64) (*mediasign.Project, error) {
	row := s.db.QueryRowContext(ctx, s.q(`SELECT p.id, p.name, p.created_at FROM media m
		JOIN datasets d ON d.id = m.dataset_id JOIN projects p ON p.id = d.project_id
		WHERE m.id = ?`), id)
	p, err := scanProject(row)
	return p, s.mapErr(err, fmt.Sprintf("media %d", id))
}
