package customsigner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	cst "github.com/mediasign/mediasign/customsigner/customsignertest"
)

// benchKeys is how many distinct keys each run signs.
const benchKeys = 10_000

// signerLatency is how long the benchmark signer takes per call.
const signerLatency = 2 * time.Millisecond

// benchStack is a stack with benchKeys media files on a connection whose
// signer takes signerLatency per call.
type benchStack struct {
	stack   *cst.Stack
	signer  *cst.Signer
	conn    *mediasign.Connection
	ids     []int64
	session cst.Session
}

func newBenchStack(b *testing.B, batch, memoryStore bool) *benchStack {
	b.Helper()
	s := cst.NewStack(b, cst.Options{})
	if memoryStore {
		s.Store.MemoryURLCache()
	}
	signs := cst.Signs(mediasign.SystemClock{})
	signer := cst.NewSigner(b, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(signerLatency)
		signs(w, r)
	})
	conn := s.AddConnection("media", cst.DummyS3(), &mediasign.SignerConfig{URL: signer.URL,
		Batch: batch})
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("images/%05d.jpg", i)
	}
	_, ids := s.AddMedia("p", conn, "b", keys...)
	s.AddUser("ann", "", "p", mediasign.RoleViewer)
	return &benchStack{stack: s, signer: signer, conn: conn, ids: ids, session: s.Login("ann")}
}

// coldCache makes every cached URL unusable by giving the connection a new
// revision.
func (bs *benchStack) coldCache(b *testing.B) {
	b.Helper()
	c := *bs.conn
	c.Signer = nil // keep the stored settings
	if err := bs.stack.Service.UpdateConnection(context.Background(), c.Name, &c); err != nil {
		b.Fatal(err)
	}
}

// batchAll asks for every URL through the batch API, 1000 ids a request.
func (bs *benchStack) batchAll(b *testing.B) {
	b.Helper()
	for lo := 0; lo < len(bs.ids); lo += 1000 {
		ids := make([]string, 0, 1000)
		for _, id := range bs.ids[lo:min(lo+1000, len(bs.ids))] {
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		resp, body := bs.stack.Do("POST", "/api/v1/media/urls",
			`{"ids":[`+strings.Join(ids, ",")+`]}`, bs.session.Apply)
		var out struct {
			Results []cst.URLAnswer `json:"results"`
		}
		if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != 200 {
			b.Fatalf("batch = %d %.200s", resp.StatusCode, body)
		}
		for _, r := range out.Results {
			if r.Error != nil || r.URL == "" {
				b.Fatalf("item %d: %+v", r.ID, r.Error)
			}
		}
	}
}

// oneAtATime asks for the URLs of n files one request after another.
func (bs *benchStack) oneAtATime(b *testing.B, n int) {
	b.Helper()
	for _, id := range bs.ids[:n] {
		resp, body := bs.stack.Do("GET", "/api/v1/media/"+strconv.FormatInt(id, 10)+"/url", "",
			bs.session.Apply)
		if resp.StatusCode != 200 {
			b.Fatalf("url = %d %s", resp.StatusCode, body)
		}
	}
}

// BenchmarkCustomSigner2ms signs 10,000 distinct keys through the batch
// API with a signer that takes 2 ms per call, with and without the batch
// extension, next to one-at-a-time requests and a warm cache, and prints
// the ratios. The design's target is at most 1 s per 10,000 keys. The
// store=memory runs keep cached URLs in a map instead of SQLite, to show
// what the database costs.
func BenchmarkCustomSigner2ms(b *testing.B) {
	secs := map[string]float64{}
	var names []string
	for _, tc := range []struct{ batch, memory bool }{
		{true, false}, {false, false}, {true, true}, {false, true},
	} {
		store := map[bool]string{false: "sqlite", true: "memory"}[tc.memory]
		name := "batch-api/extension=" + strconv.FormatBool(tc.batch) + "/store=" + store
		names = append(names, name)
		b.Run(name, func(b *testing.B) {
			bs := newBenchStack(b, tc.batch, tc.memory)
			var calls int64
			for b.Loop() {
				b.StopTimer()
				bs.coldCache(b)
				before := bs.signer.Calls()
				b.StartTimer()
				bs.batchAll(b)
				calls += bs.signer.Calls() - before
			}
			secs[name] = b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(secs[name], "s/10k-keys")
			b.ReportMetric(float64(calls)/float64(b.N), "signer-calls/10k-keys")
		})
	}

	b.Run("one-at-a-time", func(b *testing.B) {
		bs := newBenchStack(b, false, false)
		const sample = 300
		for b.Loop() {
			b.StopTimer()
			bs.coldCache(b)
			b.StartTimer()
			bs.oneAtATime(b, sample)
		}
		secs["one"] = b.Elapsed().Seconds() / float64(b.N) * benchKeys / sample
		b.ReportMetric(secs["one"], "s/10k-keys")
	})

	b.Run("warm-cache", func(b *testing.B) {
		bs := newBenchStack(b, true, false)
		bs.batchAll(b)
		before := bs.signer.Calls()
		for b.Loop() {
			bs.batchAll(b)
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/10k-keys")
		b.ReportMetric(float64(bs.signer.Calls()-before)/float64(b.N), "signer-calls/10k-keys")
	})

	if one := secs["one"]; one > 0 {
		for _, name := range names {
			if s := secs[name]; s > 0 {
				fmt.Printf("custom signer 2 ms, %s: %.3f s per 10,000 keys, %.0fx faster than "+
					"one at a time (%.1f s)\n", name, s, one/s, one)
			}
		}
	}
}
