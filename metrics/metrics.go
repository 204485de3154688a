// Package metrics defines the Prometheus metrics that mediasign exports.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector of one mediasign process. A nil *Metrics
// records nothing, so components work without it in tests.
type Metrics struct {
	Registry *prometheus.Registry

	cacheLookups   *prometheus.CounterVec
	signs          *prometheus.CounterVec
	signErrors     *prometheus.CounterVec
	signDuration   *prometheus.HistogramVec
	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	imported       prometheus.Counter

	sharedUp     prometheus.Gauge
	sharedErrors *prometheus.CounterVec
	sharedWaits  *prometheus.CounterVec
}

// New creates the collectors and registers them, with the Go and process
// collectors, in a registry of their own.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediasign_url_cache_lookups_total",
			Help: "URL cache lookups by tier and result (hit, miss, stale).",
		}, []string{"tier", "result"}),
		signs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediasign_urls_signed_total",
			Help: "URLs signed, by provider.",
		}, []string{"provider"}),
		signErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediasign_sign_errors_total",
			Help: "Signing attempts that failed, by provider.",
		}, []string{"provider"}),
		signDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mediasign_sign_duration_seconds",
			Help:    "Time to sign one URL, by provider.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12),
		}, []string{"provider"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediasign_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mediasign_http_request_duration_seconds",
			Help:    "HTTP request duration by route.",
			Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10),
		}, []string{"route"}),
		imported: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mediasign_media_imported_total",
			Help: "Media files added to the catalog by imports.",
		}),
	}
	m.addShared()
	m.Registry.MustRegister(m.cacheLookups, m.signs, m.signErrors, m.signDuration,
		m.requests, m.requestSeconds, m.imported,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// CacheLookup counts one lookup in a cache tier.
func (m *Metrics) CacheLookup(tier, result string) {
	if m != nil {
		m.cacheLookups.WithLabelValues(tier, result).Inc()
	}
}

// Signed records one signing attempt and how long it took.
func (m *Metrics) Signed(provider string, seconds float64, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.signErrors.WithLabelValues(provider).Inc()
		return
	}
	m.signs.WithLabelValues(provider).Inc()
	m.signDuration.WithLabelValues(provider).Observe(seconds)
}

// Request records one HTTP request.
func (m *Metrics) Request(route, code string, seconds float64) {
	if m != nil {
		m.requests.WithLabelValues(route, code).Inc()
		m.requestSeconds.WithLabelValues(route).Observe(seconds)
	}
}

// Imported counts media files added by an import.
func (m *Metrics) Imported(n int) {
	if m != nil {
		m.imported.Add(float64(n))
	}
}
