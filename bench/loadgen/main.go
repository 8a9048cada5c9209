// Command loadgen drives GetRecommendations from its own process with little CPU of its own:
// requests are serialised once (no reflection, no per-call JSON) and sent through a raw-bytes
// codec. Open loop (-rate): sends follow a fixed schedule whether or not earlier calls have
// returned, and each latency is measured from the scheduled send time, so a server that falls
// behind shows its queueing (no coordinated omission). Closed loop (-rate 0): -concurrency
// callers, each sending as soon as its previous call returned. Prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
)

const method = "/reco.v1.Recommendations/GetRecommendations"

// rawCodec passes already-serialised protobuf through; named "proto" so the content type
// stays application/grpc+proto.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append((*(v.(*[]byte)))[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

// request is GetRecommendationsRequest{user_id: user, k: k} in protobuf wire format.
func request(user string, k int) []byte {
	out := []byte{0x0a}
	out = appendVarint(out, uint64(len(user)))
	out = append(out, user...)
	out = append(out, 0x10)
	return appendVarint(out, uint64(k))
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

type result struct {
	latency time.Duration // from the scheduled send (open loop) or the send (closed loop)
	late    time.Duration // open loop: how late the generator itself sent the call
	failed  bool
}

func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q / 100 * float64(len(sorted)))
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i].Microseconds())
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "the server's host:port")
	users := flag.String("users", "", "comma-separated user ids, asked for round robin")
	k := flag.Int("k", 10, "items per request")
	rate := flag.Float64("rate", 0, "open loop: requests per second (0: closed loop)")
	seconds := flag.Float64("seconds", 5, "how long to send")
	concurrency := flag.Int("concurrency", 8, "closed loop: callers")
	connections := flag.Int("connections", 8, "HTTP/2 connections (several server processes share them)")
	timeout := flag.Duration("timeout", 2*time.Second, "per-call deadline")
	flag.Parse()
	ids := strings.Split(*users, ",")
	if *users == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -users is required")
		os.Exit(2)
	}
	requests := make([][]byte, len(ids))
	for i, id := range ids {
		requests[i] = request(id, *k)
	}
	conns := make([]*grpc.ClientConn, *connections)
	for i := range conns {
		conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		defer conn.Close()
		conns[i] = conn
	}
	call := func(n int) bool {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		var reply []byte
		req := requests[n%len(requests)]
		return conns[n%len(conns)].Invoke(ctx, method, &req, &reply) == nil
	}
	for n := 0; n < 100; n++ { // warm the connections
		call(n)
	}
	var mu sync.Mutex
	var results []result
	record := func(r result) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	duration := time.Duration(*seconds * float64(time.Second))
	start := time.Now()
	if *rate > 0 {
		total := int(*rate * *seconds)
		for n := 0; n < total; n++ {
			scheduled := start.Add(time.Duration(float64(n) / *rate * float64(time.Second)))
			time.Sleep(time.Until(scheduled))
			wg.Add(1)
			go func(n int, scheduled time.Time) {
				defer wg.Done()
				late := time.Since(scheduled)
				ok := call(n)
				record(result{time.Since(scheduled), late, !ok})
			}(n, scheduled)
		}
	} else {
		for c := 0; c < *concurrency; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				for n := c; time.Since(start) < duration; n += *concurrency {
					sent := time.Now()
					ok := call(n)
					record(result{time.Since(sent), 0, !ok})
				}
			}(c)
		}
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	latencies := make([]time.Duration, 0, len(results))
	// the call alone, without the generator's own lateness: what a generator that measures
	// from its actual send (ghz) reports
	calls := make([]time.Duration, 0, len(results))
	lateness := make([]time.Duration, 0, len(results))
	errors := 0
	for _, r := range results {
		if r.failed {
			errors++
		} else {
			latencies = append(latencies, r.latency)
			calls = append(calls, r.latency-r.late)
			lateness = append(lateness, r.late)
		}
	}
	for _, s := range [][]time.Duration{latencies, calls, lateness} {
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	}
	out := map[string]any{
		"generator": "loadgen (Go)", "requests": len(results), "errors": errors,
		"seconds": elapsed, "achieved_per_s": float64(len(results)) / elapsed,
		"p50_us": percentile(latencies, 50), "p99_us": percentile(latencies, 99),
		"p999_us": percentile(latencies, 99.9),
	}
	if *rate > 0 {
		out["rate"] = *rate
		out["from_send_p50_us"] = percentile(calls, 50)
		out["from_send_p99_us"] = percentile(calls, 99)
		out["late_p99_us"] = percentile(lateness, 99)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
