package service

import (
	"context"

	"github.com/mediasign/mediasign"
)

// AddProject creates a project called name.
func (s *Service) AddProject(ctx context.Context, name string) (*mediasign.Project, error) {
	if err := ValidateName("project", name); err != nil {
		return nil, err
	}
	p := &mediasign.Project{Name: name}
	return p, s.store.CreateProject(ctx, p)
}

// EnsureProject returns the project called name, creating it if needed.
func (s *Service) EnsureProject(ctx context.Context, name string) (*mediasign.Project, error) {
	p, err := s.store.ProjectByName(ctx, name)
	if mediasign.ErrorCode(err) != mediasign.CodeNotFound {
		return p, err
	}
	p, err = s.AddProject(ctx, name)
	if mediasign.ErrorCode(err) == mediasign.CodeConflict {
		// Another replica created it in the meantime.
		return s.store.ProjectByName(ctx, name)
	}
	return p, err
}

// AddDataset creates a dataset called name in a project.
func (s *Service) AddDataset(ctx context.Context, projectID int64, name string) (*mediasign.Dataset, error) {
	if err := ValidateName("dataset", name); err != nil {
		return nil, err
	}
	if _, err := s.store.Project(ctx, projectID); err != nil {
		return nil, err
	}
	d := &mediasign.Dataset{ProjectID: projectID, Name: name}
	return d, s.store.CreateDataset(ctx, d)
}

// EnsureDataset returns the dataset called name in a project, creating it if
// needed.
func (s *Service) EnsureDataset(ctx context.Context, projectID int64, name string) (*mediasign.Dataset, error) {
	d, err := s.store.DatasetByName(ctx, projectID, name)
	if mediasign.ErrorCode(err) != mediasign.CodeNotFound {
		return d, err
	}
	d, err = s.AddDataset(ctx, projectID, name)
	if mediasign.ErrorCode(err) == mediasign.CodeConflict {
		// Another replica created it in the meantime.
		return s.store.DatasetByName(ctx, projectID, name)
	}
	return d, err
}
