package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// addShared creates and registers the collectors of the shared URL cache
// tier.
func (m *Metrics) addShared() {
	m.sharedUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mediasign_redis_up",
		Help: "1 while the shared URL cache (Redis) answers, 0 while this replica " +
			"serves without it. Absent when none is configured.",
	})
	m.sharedErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mediasign_redis_errors_total",
		Help: "Failed calls to the shared URL cache (Redis), by operation.",
	}, []string{"op"})
	m.sharedWaits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mediasign_url_cache_shared_waits_total",
		Help: "Times this replica waited for another one to sign a URL, by outcome: " +
			"filled (the other's URL arrived), took_over (the other let go, this one " +
			"signed), gave_up (the caller left first).",
	}, []string{"result"})
	m.Registry.MustRegister(m.sharedErrors, m.sharedWaits)
}

// SharedUp records whether the shared URL cache tier answers. The gauge is
// registered by the first call, so installations without one do not show
// it.
func (m *Metrics) SharedUp(up bool) {
	if m == nil {
		return
	}
	// Registering again after the first call fails harmlessly.
	_ = m.Registry.Register(m.sharedUp)
	if up {
		m.sharedUp.Set(1)
	} else {
		m.sharedUp.Set(0)
	}
}

// SharedError counts one failed call to the shared tier.
func (m *Metrics) SharedError(op string) {
	if m != nil {
		m.sharedErrors.WithLabelValues(op).Inc()
	}
}

// SharedWait counts one wait for another replica's signature.
func (m *Metrics) SharedWait(result string) {
	if m != nil {
		m.sharedWaits.WithLabelValues(result).Inc()
	}
}

// WatchDB exports the connection pool statistics of the state database,
// for sizing the pool.
func (m *Metrics) WatchDB(db *sql.DB) {
	if m != nil {
		m.Registry.MustRegister(collectors.NewDBStatsCollector(db, "mediasign"))
	}
}
