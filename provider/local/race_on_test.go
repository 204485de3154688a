//go:build race

package local

// raceEnabled tells the allocation test that the race detector is on: it
// makes sync.Pool drop items at random, so allocations are not counted.
const raceEnabled = true
