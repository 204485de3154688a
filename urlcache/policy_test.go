package urlcache

import (
	"strings"
	"testing"
	"time"
)

func TestLoadPolicy(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Policy
		wantErr []string
	}{
		{name: "defaults", env: nil, want: DefaultPolicy()},
		{name: "origin example in seconds",
			env:  map[string]string{EnvMinimumValid: "18000", EnvNewValid: "21600"},
			want: Policy{MinValid: 18000 * time.Second, NewValid: 21600 * time.Second}},
		{name: "M equal to N",
			env:     map[string]string{EnvMinimumValid: "600", EnvNewValid: "600"},
			wantErr: []string{EnvMinimumValid + "=600", EnvNewValid + "=600", "less than"}},
		{name: "M above N",
			env:     map[string]string{EnvMinimumValid: "21600", EnvNewValid: "18000"},
			wantErr: []string{EnvMinimumValid + "=21600", EnvNewValid + "=18000"}},
		{name: "only M set above default N",
			env:     map[string]string{EnvMinimumValid: "600000"},
			wantErr: []string{EnvNewValid + "=518400"}},
		{name: "days spelling of minimum",
			env:     map[string]string{"SIGNED_URL_CACHE_MINIMUM_DAYS_VALID": "18000"},
			wantErr: []string{"SIGNED_URL_CACHE_MINIMUM_DAYS_VALID", EnvMinimumValid}},
		{name: "days spelling of offset",
			env:     map[string]string{"SIGNED_URL_CACHE_NEW_OFFSET_DAYS_VALID": "6"},
			wantErr: []string{"SIGNED_URL_CACHE_NEW_OFFSET_DAYS_VALID", EnvNewValid}},
		{name: "thousands separator",
			env:     map[string]string{EnvMinimumValid: "18,000"},
			wantErr: []string{EnvMinimumValid, "whole number of seconds"}},
		{name: "negative", env: map[string]string{EnvNewValid: "-5"},
			wantErr: []string{EnvNewValid, "above 0"}},
		{name: "duration syntax", env: map[string]string{EnvNewValid: "6d"},
			wantErr: []string{EnvNewValid, "6d"}},
		{name: "milliseconds by mistake", env: map[string]string{EnvNewValid: "518400000"},
			wantErr: []string{"milliseconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadPolicy(func(k string) (string, bool) {
				v, ok := tt.env[k]
				return v, ok
			})
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("LoadPolicy: %v", err)
				}
				if got != tt.want {
					t.Fatalf("LoadPolicy = %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadPolicy accepted %v", tt.env)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestSafeFor(t *testing.T) {
	p := Policy{MinValid: time.Minute, NewValid: time.Hour}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := p.SafeFor(now.Add(time.Hour), now); got != 59*time.Minute {
		t.Fatalf("SafeFor = %v, want 59m", got)
	}
	if got := p.SafeFor(now.Add(30*time.Second), now); got != 0 {
		t.Fatalf("SafeFor below M = %v, want 0", got)
	}
}
