package export_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/export"
	"github.com/mediasign/mediasign/internal/seed"
)

// envBenchMedia overrides how many media files BenchmarkExportMillion
// exports, for a quick look.
const envBenchMedia = "MEDIASIGN_EXPORT_BENCH_MEDIA"

// BenchmarkExportMillion exports 1,000,000 media files on SQLite with
// built-in S3 signing, every URL needing a new signature (each run bumps
// the connection's revision), and reports, beside the time, the time of
// merely reading the same rows, the ratio of the two, and the peak memory:
// the Go runtime's high-water mark and, on Linux, the process's peak RSS.
//
//	go test -run '^$' -bench ExportMillion -benchtime 1x ./export/
func BenchmarkExportMillion(b *testing.B) {
	n := benchMedia(b)
	env := newEnv(b, envOptions{})
	ds := env.dataset("bench")
	start := time.Now()
	seedMedia(b, env, ds, n)
	b.Logf("seeded %d media files in %s", n, time.Since(start).Round(time.Millisecond))

	// The first read warms the caches for both; the second is the one
	// compared.
	readAll(b, env, ds)
	read := readAll(b, env, ds)
	out := filepath.Join(b.TempDir(), "bench.jsonl")
	var took time.Duration
	var peak peakMemory

	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		env.bumpRevision(b)
		os.Remove(out)
		runtime.GC()
		debug.FreeOSMemory()
		peak.start()
		b.StartTimer()

		began := time.Now()
		res := env.export(b, []*mediasign.Dataset{ds}, mediasign.ExportJSONLines, out)
		took = time.Since(began)

		b.StopTimer()
		peak.stop()
		if res.Count != int64(n) || res.Stats.Signed != int64(n) {
			b.Fatalf("exported %d entries with %d new signatures, want %d of each",
				res.Count, res.Stats.Signed, n)
		}
		b.StartTimer()
	}

	ratio := took.Seconds() / read.Seconds()
	b.ReportMetric(took.Seconds(), "s/export")
	b.ReportMetric(read.Seconds(), "s/read")
	b.ReportMetric(ratio, "x-read")
	b.ReportMetric(peak.heapMiB(), "peak-go-MiB")
	if rss := peak.rssMiB(); rss > 0 {
		b.ReportMetric(rss, "peak-rss-MiB")
	}
	b.Logf("%d media: export %s, reading alone %s, ratio %.2fx; peak Go memory %.0f MiB, "+
		"peak RSS %.0f MiB (targets: 10 s, 256 MiB)", n, took.Round(time.Millisecond),
		read.Round(time.Millisecond), ratio, peak.heapMiB(), peak.rssMiB())
}

func benchMedia(b *testing.B) int {
	v := os.Getenv(envBenchMedia)
	if v == "" {
		return 1_000_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q is not a positive whole number", envBenchMedia, v)
	}
	return n
}

func seedMedia(tb testing.TB, env *env, ds *mediasign.Dataset, n int) {
	tb.Helper()
	_, err := seed.Media(context.Background(), env.store, seed.Options{DatasetID: ds.ID,
		ConnectionID: env.conn.ID, Bucket: env.bucket, Prefix: "images/", Count: n})
	if err != nil {
		tb.Fatal(err)
	}
}

// readAll reads every media file of ds the way an export does, and
// nothing else, and returns how long that took.
func readAll(b *testing.B, env *env, ds *mediasign.Dataset) time.Duration {
	b.Helper()
	ctx := context.Background()
	began := time.Now()
	_, last, err := env.store.MediaSnapshot(ctx, ds.ID)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]mediasign.MediaRef, 0, export.DefaultPageSize)
	after, seen := int64(0), 0
	for after < last {
		buf, err = env.store.MediaPage(ctx, ds.ID, after, last, export.DefaultPageSize, buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		seen += len(buf)
		after = buf[len(buf)-1].ID
	}
	if seen == 0 {
		b.Fatal("read no media")
	}
	return time.Since(began)
}

// peakMemory samples the memory the Go runtime holds from the system while
// a run goes, and reads the process's peak RSS on Linux.
type peakMemory struct {
	mu    sync.Mutex
	peak  uint64
	rss   uint64
	done  chan struct{}
	wg    sync.WaitGroup
	reset bool
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

func (p *peakMemory) start() {
	p.done = make(chan struct{})
	// Writing 5 to clear_refs resets the peak RSS the kernel keeps.
	p.reset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			p.sample()
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
}

func (p *peakMemory) sample() {
	s := make([]metrics.Sample, len(memSamples))
	copy(s, memSamples)
	metrics.Read(s)
	used := s[0].Value.Uint64() - s[1].Value.Uint64()
	p.mu.Lock()
	p.peak = max(p.peak, used)
	p.mu.Unlock()
}

func (p *peakMemory) stop() {
	close(p.done)
	p.wg.Wait()
	if p.reset {
		p.rss = max(p.rss, peakRSS())
	}
}

func (p *peakMemory) heapMiB() float64 { return float64(p.peak) / (1 << 20) }
func (p *peakMemory) rssMiB() float64  { return float64(p.rss) / (1 << 20) }

// peakRSS reads VmHWM, the peak resident set, from /proc/self/status.
func peakRSS() uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		var kib uint64
		if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err == nil {
			return kib << 10
		}
	}
	return 0
}
