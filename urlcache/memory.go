package urlcache

import (
	"container/list"
	"sync"
	"time"
)

// memEntry is one URL in the in-process tier.
type memEntry struct {
	key       string
	url       string
	expiresAt time.Time
	headers   map[string]string
}

// memTier is a bounded least-recently-used map. Touching an entry moves it
// in the eviction order but never changes its expiry.
type memTier struct {
	mu    sync.Mutex
	cap   int
	order *list.List
	items map[string]*list.Element
}

func newMemTier(capacity int) *memTier {
	return &memTier{cap: capacity, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the entry for key if servable reports it may be served. An
// entry that may not is kept, for staleOnError, until it is replaced or
// evicted.
func (m *memTier) get(key string, servable func(time.Time) bool) (memEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()

	el, ok := m.items[key]
	if !ok {
		return memEntry{}, false
	}
	e := el.Value.(*memEntry)
	if !servable(e.expiresAt) {
		return memEntry{}, false
	}
	m.order.MoveToFront(el)
	return *e, true
}

// put stores e, evicting the least recently used entry when full.
func (m *memTier) put(e memEntry) {
	if m.cap <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()

	if el, ok := m.items[e.key]; ok {
		*el.Value.(*memEntry) = e
		m.order.MoveToFront(el)
		return
	}
	m.items[e.key] = m.order.PushFront(&e)
	for m.order.Len() > m.cap {
		last := m.order.Back()
		m.order.Remove(last)
		delete(m.items, last.Value.(*memEntry).key)
	}
}

func (m *memTier) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}
