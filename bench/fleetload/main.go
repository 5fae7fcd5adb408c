// Command fleetload simulates a fleet of agents against a running kensa
// server, for bench/fleet-load.sh: N agents enrol, each uploads a
// real-size inventory (made distinct per agent, so every one is stored),
// then all heartbeat at the given interval for the given time. It prints
// the p50 and p99 latencies of enrolment, upload (HEAD + PUT) and
// heartbeat, and the upload rate.
//
// It speaks the agent protocol (internal/agentapi) directly, with real
// keys and certificates, over real TLS.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/pki"
)

func main() {
	server := flag.String("server", "", "server URL (https://127.0.0.1:8443)")
	caFile := flag.String("ca", "", "the server's CA certificate")
	join := flag.String("join", "", "a join token with enough uses")
	n := flag.Int("agents", 1000, "simulated agents")
	root := flag.String("root", "", "the root file system whose inventory each agent uploads")
	interval := flag.Duration("heartbeat", 10*time.Second, "heartbeat interval")
	dur := flag.Duration("duration", time.Minute, "how long the agents heartbeat")
	conc := flag.Int("concurrency", 64, "enrolments and uploads at once")
	flag.Parse()
	if err := run(*server, *caFile, *join, *root, *n, *conc, *interval, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "fleetload:", err)
		os.Exit(1)
	}
}

type agent struct {
	id     string
	client *http.Client
}

func run(server, caFile, join, root string, n, conc int, interval, dur time.Duration) error {
	ctx := context.Background()
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s: no certificate", caFile)
	}
	inv, err := assess.Inventory(ctx, assess.Options{Root: root, Packages: []string{"cve", "cis", "best-practices"}})
	if err != nil {
		return err
	}
	base, _ := json.Marshal(inv)
	fmt.Printf("agents %d, inventory %d bytes (%s), heartbeat every %s for %s\n", n, len(base), root, interval, dur)

	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}}, Timeout: time.Minute}
	agents := make([]agent, n)
	enrol := timed(n, conc, func(i int) error {
		key, err := pki.NewAgentKey()
		if err != nil {
			return err
		}
		csr, err := pki.NewCSR(key)
		if err != nil {
			return err
		}
		req := agentapi.EnrolRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})),
			Hostname: fmt.Sprintf("sim-%04d", i), Tags: map[string]string{"env": "load"}, Status: agentapi.Status{OS: "debian:12", Version: "load"}}
		var resp agentapi.EnrolResponse
		if err := post(plain, server+"/api/v1/enrol", join, req, &resp); err != nil {
			return err
		}
		keyPEM, _ := pki.KeyPEM(key)
		cert, err := tls.X509KeyPair([]byte(resp.Certificate), keyPEM)
		if err != nil {
			return err
		}
		agents[i] = agent{id: resp.AgentID, client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{
			TLSClientConfig: pki.AgentTLSConfig(pki.StaticClientCert(cert), pool, "127.0.0.1")}}}
		return nil
	})
	report("enrol", enrol)
	if enrol.errors > 0 {
		return fmt.Errorf("%d enrolments failed: %v", enrol.errors, enrol.first)
	}

	start := time.Now()
	upload := timed(n, conc, func(i int) error {
		doc := bytes.Replace(base, []byte(`"hostname":"`), []byte(fmt.Sprintf(`"hostname":"sim-%04d-`, i)), 1)
		h := sha256.Sum256(doc)
		sum := hex.EncodeToString(h[:])
		c := agents[i].client
		req, _ := http.NewRequest(http.MethodHead, server+"/api/v1/agent/blobs/"+sum, nil)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(doc)
		zw.Close()
		req, _ = http.NewRequest(http.MethodPut, server+"/api/v1/agent/blobs/"+sum, &buf)
		req.Header.Set("Content-Type", "application/gzip")
		resp, err = c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("PUT: %s", resp.Status)
		}
		return nil
	})
	elapsed := time.Since(start)
	report("upload", upload)
	fmt.Printf("uploads: %d in %.1f s = %.1f/s\n", n-upload.errors, elapsed.Seconds(), float64(n-upload.errors)/elapsed.Seconds())

	// Heartbeats: each agent at the interval, spread over it.
	var mu sync.Mutex
	var hb []time.Duration
	errs := 0
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * interval / time.Duration(n))
			for time.Now().Before(deadline) {
				t := time.Now()
				err := post(agents[i].client, server+"/api/v1/agent/heartbeat", "", agentapi.Heartbeat{Health: "HEALTHY", Status: agentapi.Status{OS: "debian:12", Version: "load"}}, nil)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					hb = append(hb, d)
				}
				mu.Unlock()
				time.Sleep(interval - d)
			}
		})
	}
	wg.Wait()
	report("heartbeat", result{lat: hb, errors: errs})
	fmt.Printf("heartbeats: %d in %s = %.1f/s\n", len(hb), dur, float64(len(hb))/dur.Seconds())
	return nil
}

type result struct {
	lat    []time.Duration
	errors int
	first  error
}

// timed runs fn for 0..n-1, conc at once, and records each call's time.
func timed(n, conc int, fn func(int) error) result {
	var mu sync.Mutex
	var r result
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t := time.Now()
			err := fn(i)
			d := time.Since(t)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.errors++
				if r.first == nil {
					r.first = err
				}
				return
			}
			r.lat = append(r.lat, d)
		})
	}
	wg.Wait()
	return r
}

func report(what string, r result) {
	if len(r.lat) == 0 {
		fmt.Printf("%s: no successes, %d errors (%v)\n", what, r.errors, r.first)
		return
	}
	slices.Sort(r.lat)
	q := func(p float64) time.Duration { return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))] }
	fmt.Printf("%s: n=%d errors=%d p50=%s p99=%s max=%s\n", what, len(r.lat), r.errors,
		q(0.50).Round(time.Microsecond*100), q(0.99).Round(time.Microsecond*100), r.lat[len(r.lat)-1].Round(time.Millisecond))
}

func post(c *http.Client, url, token string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s: %s %s", url, resp.Status, rb)
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}
