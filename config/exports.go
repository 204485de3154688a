package config

import (
	"errors"
	"fmt"
	"strings"
)

// Environment variables of the storage that keeps export files, which
// every replica must reach when more than one runs.
const (
	EnvExportConnection = "MEDIASIGN_EXPORT_CONNECTION"
	EnvExportBucket     = "MEDIASIGN_EXPORT_BUCKET"
	EnvExportPrefix     = "MEDIASIGN_EXPORT_PREFIX"

	// DefaultExportPrefix starts the keys of export files when nothing is
	// set.
	DefaultExportPrefix = "mediasign-exports/"

	maxExportPrefix = 512
)

// ExportStorage names the s3 connection and bucket that keep finished
// export files. With no connection, files stay in DATA_DIR/exports on the
// process that wrote them.
type ExportStorage struct {
	Connection string
	Bucket     string
	Prefix     string
}

// Enabled reports whether export files go to a storage connection.
func (e ExportStorage) Enabled() bool { return e.Connection != "" }

// loadExports reads the settings of this file through lookup.
func (c *Config) loadExports(lookup func(string) (string, bool)) {
	if v, ok := lookup(EnvExportConnection); ok {
		c.ExportStorage.Connection = strings.TrimSpace(v)
	}
	if v, ok := lookup(EnvExportBucket); ok {
		c.ExportStorage.Bucket = strings.TrimSpace(v)
	}
	if v, ok := lookup(EnvExportPrefix); ok {
		c.ExportStorage.Prefix = v
	}
}

// validateExports checks the settings of this file. Whether the connection
// exists, and is an s3 one, is checked once the state is open.
func (c *Config) validateExports() error {
	e := c.ExportStorage
	var errs []error
	switch {
	case e.Connection == "" && e.Bucket != "":
		errs = append(errs, fmt.Errorf("%s is set but %s is not: name the s3 connection "+
			"that holds the bucket, or unset %s", EnvExportBucket, EnvExportConnection,
			EnvExportBucket))
	case e.Connection != "" && e.Bucket == "":
		errs = append(errs, fmt.Errorf("%s=%q needs %s: name the bucket that keeps "+
			"export files", EnvExportConnection, e.Connection, EnvExportBucket))
	}
	if strings.Contains(e.Bucket, "/") {
		errs = append(errs, fmt.Errorf("%s=%q is not a bucket name: give the name alone, "+
			"and put a folder in %s", EnvExportBucket, e.Bucket, EnvExportPrefix))
	}
	errs = append(errs, validateExportPrefix(e.Prefix))
	return errors.Join(errs...)
}

func validateExportPrefix(p string) error {
	switch {
	case len(p) > maxExportPrefix:
		return fmt.Errorf("%s is %d bytes long: give at most %d", EnvExportPrefix, len(p),
			maxExportPrefix)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("%s=%q starts with '/': S3 keys do not, remove it", EnvExportPrefix, p)
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%s must not contain control characters", EnvExportPrefix)
	}
	return nil
}
