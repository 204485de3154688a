//go:build race

package sigv4

// raceEnabled tells the allocation tests that the race detector is on: it
// makes sync.Pool drop items at random, so allocations are not counted.
const raceEnabled = true
