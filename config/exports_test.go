package config

import (
	"strings"
	"testing"
)

func TestExportStorageSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    ExportStorage
		wantErr []string
	}{
		{name: "unset", want: ExportStorage{Prefix: DefaultExportPrefix}},
		{name: "connection and bucket",
			env:  map[string]string{EnvExportConnection: " archive ", EnvExportBucket: "exports"},
			want: ExportStorage{Connection: "archive", Bucket: "exports", Prefix: DefaultExportPrefix}},
		{name: "own prefix",
			env: map[string]string{EnvExportConnection: "archive", EnvExportBucket: "exports",
				EnvExportPrefix: "team/a/"},
			want: ExportStorage{Connection: "archive", Bucket: "exports", Prefix: "team/a/"}},
		{name: "connection without bucket", env: map[string]string{EnvExportConnection: "archive"},
			wantErr: []string{EnvExportConnection, EnvExportBucket, `"archive"`}},
		{name: "bucket without connection", env: map[string]string{EnvExportBucket: "exports"},
			wantErr: []string{EnvExportBucket, EnvExportConnection}},
		{name: "bucket with a folder",
			env:     map[string]string{EnvExportConnection: "a", EnvExportBucket: "exports/x"},
			wantErr: []string{EnvExportBucket, EnvExportPrefix}},
		{name: "prefix with a leading slash",
			env: map[string]string{EnvExportConnection: "a", EnvExportBucket: "b",
				EnvExportPrefix: "/exports/"},
			wantErr: []string{EnvExportPrefix, "'/'"}},
		{name: "prefix with a control character",
			env: map[string]string{EnvExportConnection: "a", EnvExportBucket: "b",
				EnvExportPrefix: "exp\norts/"},
			wantErr: []string{EnvExportPrefix, "control"}},
		{name: "prefix too long",
			env: map[string]string{EnvExportConnection: "a", EnvExportBucket: "b",
				EnvExportPrefix: strings.Repeat("p", maxExportPrefix+1)},
			wantErr: []string{EnvExportPrefix, "at most"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if err == nil {
				err = c.Validate()
			}
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				if c.ExportStorage != tt.want {
					t.Fatalf("ExportStorage = %+v, want %+v", c.ExportStorage, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one naming %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
