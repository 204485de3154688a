package customsigner

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the collectors of custom URL signer calls. A nil *Metrics
// records nothing.
type Metrics struct {
	calls    *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	keys     *prometheus.HistogramVec
	breakers *prometheus.GaugeVec
	assumed  *prometheus.CounterVec
}

// Results of a call, as the calls metric counts them.
const (
	resultOK          = "ok"
	resultRefused     = "refused"
	resultConflict    = "conflict"
	resultError       = "error"
	resultBreakerOpen = "breaker_open"
)

// NewMetrics creates the collectors and registers them with reg; nil reg
// gives nil Metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		return nil
	}
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediasign_signer_keys_total",
			Help: "Keys asked of custom URL signers by connection and result (ok, refused, " +
				"conflict, error, breaker_open).",
		}, []string{"connection", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mediasign_signer_call_duration_seconds",
			Help:    "Duration of HTTP calls to custom URL signers, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15),
		}, []string{"connection"}),
		keys: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mediasign_signer_keys_per_call",
			Help:    "Keys signed per call to a custom URL signer (above 1 with the batch extension).",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100},
		}, []string{"connection"}),
		breakers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mediasign_signer_breaker_state",
			Help: "Circuit breaker of each custom URL signer: 0 closed, 1 half-open, 2 open.",
		}, []string{"connection"}),
		assumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediasign_signer_assumed_expiry_total",
			Help: "URLs from custom signers whose expiry was neither in the answer nor in the " +
				"URL, so the asked validity was assumed.",
		}, []string{"connection"}),
	}
	reg.MustRegister(m.calls, m.seconds, m.keys, m.breakers, m.assumed)
	return m
}

// result counts keys with one result.
func (m *Metrics) result(conn, result string, keys int) {
	if m != nil && keys > 0 {
		m.calls.WithLabelValues(conn, result).Add(float64(keys))
	}
}

// call records one HTTP call, retries included, for keys keys.
func (m *Metrics) call(conn string, keys int, seconds float64) {
	if m != nil {
		m.seconds.WithLabelValues(conn).Observe(seconds)
		m.keys.WithLabelValues(conn).Observe(float64(keys))
	}
}

func (m *Metrics) breaker(conn string, s breakerState) {
	if m != nil {
		m.breakers.WithLabelValues(conn).Set(float64(s))
	}
}

func (m *Metrics) assumedExpiry(conn string) {
	if m != nil {
		m.assumed.WithLabelValues(conn).Inc()
	}
}
