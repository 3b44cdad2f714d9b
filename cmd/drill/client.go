package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

const (
	deskEmail    = "desk@desertbloom.example"
	demoPassword = "infusiondesk-demo"
)

// server is one `infusiondesk serve` the drill started.
type server struct {
	URL string
	cmd *exec.Cmd
}

// startServer runs bin serve on a free loopback port against dbURL and
// waits until it is ready.
func startServer(bin, dbURL, logPath string, env ...string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), append([]string{"DATABASE_URL=" + dbURL, "ADDR=" + addr, "LOG_LEVEL=warn"}, env...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{URL: "http://" + addr, cmd: cmd}
	for i := 0; i < 300; i++ {
		if _, err := s.ready(); err == nil {
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("the server on %s was not ready in 30 s (log in %s)", addr, logPath)
}

// ready asks /readyz and returns the database node it names.
func (s *server) ready() (string, error) {
	resp, err := http.Get(s.URL + "/readyz")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Status, Database string }
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("readyz: %d", resp.StatusCode)
	}
	return body.Database, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// desk is one front-desk client with an API token, spreading its requests
// over the servers.
type desk struct {
	servers []*server
	token   string
	http    *http.Client
	n       int
	rng     *mrand.Rand
	tally   *tally
}

func signInDesk(servers []*server, seed uint64, t *tally) (*desk, error) {
	d := &desk{servers: servers, http: &http.Client{Timeout: 30 * time.Second}, rng: mrand.New(mrand.NewPCG(seed, 7)), n: int(seed), tally: t}
	var tok struct{ Token string }
	status, _, err := d.call(context.Background(), "POST", "/api/v1/auth/token", "", map[string]string{"email": deskEmail, "password": demoPassword}, &tok)
	if err != nil || tok.Token == "" {
		return nil, fmt.Errorf("desk sign-in: %d %v", status, err)
	}
	d.token = tok.Token
	return d, nil
}

// call sends one API request to the next server; out gets a 2xx answer.
func (d *desk) call(ctx context.Context, method, path, key string, body, out any) (int, string, error) {
	d.n++
	target := d.servers[d.n%len(d.servers)].URL
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target+path, r)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, "", err
		}
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Request-ID"), nil
}

// book sends a booking the way a desk does when the clinic's connection
// wobbles: the same request with the same Idempotency-Key until it is
// answered (a 201, or the product's refusal), so a booking that committed
// while its answer was lost is not booked twice. It returns the final status.
func (d *desk) book(ctx context.Context, path string, body, out any) int {
	key := newKey()
	giveUp := time.Now().Add(2 * time.Minute)
	for {
		start := time.Now()
		status, reqID, err := d.call(context.WithoutCancel(ctx), "POST", path, key, body, out)
		d.tally.answer(status, reqID, err, start)
		if (err == nil && status != http.StatusServiceUnavailable) || time.Now().After(giveUp) {
			return status
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func newKey() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tally counts the answers of the run.
type tally struct {
	mu          sync.Mutex
	statuses    map[int]int
	transport   int
	unavailable int // 503s (with a request id)
	broken      []string
	firstOKFrom time.Time // count successes from here (the kill)
	firstOK     time.Time
	// The bookings that answered 201: appointment ids and series ids.
	appointments []int64
	series       []int64
}

func newTally() *tally { return &tally{statuses: map[int]int{}} }

func (t *tally) answer(status int, reqID string, err error, start time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case err != nil:
		t.transport++
		if !isRefused(err) {
			t.broken = append(t.broken, "transport: "+err.Error())
		}
	case status == http.StatusServiceUnavailable:
		t.unavailable++
		if reqID == "" {
			t.broken = append(t.broken, "a 503 without a request id")
		}
	case status >= 500:
		t.broken = append(t.broken, fmt.Sprintf("answered %d (request %s)", status, reqID))
	}
	t.statuses[status]++
	if status == http.StatusCreated && !t.firstOKFrom.IsZero() && t.firstOK.IsZero() && start.After(t.firstOKFrom) {
		t.firstOK = time.Now()
	}
}

// isRefused: a server stopped on purpose refuses connections; that is not
// the failover's doing.
func isRefused(err error) bool {
	return strings.Contains(err.Error(), "connection refused")
}

func (t *tally) acknowledge(appointments []int64, series int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.appointments = append(t.appointments, appointments...)
	if series != 0 {
		t.series = append(t.series, series)
	}
}

// work books until ctx ends: a new patient and their loading series, or a
// consultation for one of the desk's patients.
func (d *desk) work(ctx context.Context, protocolID int64, zone *time.Location) {
	var mine []int64
	for ctx.Err() == nil {
		today := time.Now().In(zone)
		if len(mine) == 0 || d.rng.IntN(2) == 0 {
			n := d.rng.IntN(1e9)
			var p struct{ ID int64 }
			status := d.book(ctx, "/api/v1/patients", map[string]any{"first_name": "Drill", "last_name": fmt.Sprintf("Patient%d", n),
				"date_of_birth": "1970-01-01", "condition": "crps", "weight_kg": 70, "contact_by": []string{},
				"email": fmt.Sprintf("drill%d@example.com", n), "phone": fmt.Sprintf("(602) 555-%04d", n%10000)}, &p)
			if status != http.StatusCreated {
				continue
			}
			mine = append(mine, p.ID)
			var booked struct {
				SeriesID     int64 `json:"series_id"`
				Appointments []struct{ ID int64 }
			}
			first := today.AddDate(0, 0, 2+d.rng.IntN(60)).Format("2006-01-02")
			if d.book(ctx, fmt.Sprintf("/api/v1/patients/%d/loading-series", p.ID),
				map[string]any{"protocol_id": protocolID, "start_date": first, "preferred_time": "09:00"}, &booked) == http.StatusCreated {
				ids := make([]int64, len(booked.Appointments))
				for i, a := range booked.Appointments {
					ids[i] = a.ID
				}
				d.tally.acknowledge(ids, booked.SeriesID)
			}
			continue
		}
		day := today.AddDate(0, 0, 1+d.rng.IntN(60)).Format("2006-01-02")
		var av struct {
			Days []struct {
				Chairs []struct {
					ChairID int64 `json:"chair_id"`
					Starts  []string
				}
			}
		}
		started := time.Now()
		if status, reqID, err := d.call(ctx, "GET", "/api/v1/availability?from="+day+"&to="+day+"&minutes=60", "", nil, &av); err != nil || status != 200 || len(av.Days) != 1 {
			if ctx.Err() == nil {
				d.tally.answer(status, reqID, err, started)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var options [][2]any
		for _, ch := range av.Days[0].Chairs {
			for _, s := range ch.Starts {
				options = append(options, [2]any{ch.ChairID, s})
			}
		}
		if len(options) == 0 {
			continue
		}
		o := options[d.rng.IntN(len(options))]
		start, _ := time.ParseInLocation("2006-01-02 15:04", day+" "+o[1].(string), zone)
		var a struct{ ID int64 }
		if d.book(ctx, "/api/v1/appointments", map[string]any{"patient_id": mine[d.rng.IntN(len(mine))], "kind": "consult",
			"start": start.Format(time.RFC3339), "chair_id": o[0]}, &a) == http.StatusCreated {
			d.tally.acknowledge([]int64{a.ID}, 0)
		}
	}
}

// clinicSetup reads what the desks need: the short loading protocol and the
// clinic's time zone.
func clinicSetup(d *desk) (protocolID int64, zone *time.Location, err error) {
	var protocols []struct {
		ID   int64
		Name string
	}
	if status, _, err := d.call(context.Background(), "GET", "/api/v1/protocols", "", nil, &protocols); err != nil || status != 200 {
		return 0, nil, fmt.Errorf("protocols: %d %v", status, err)
	}
	for _, p := range protocols {
		if p.Name == "Short loading" {
			protocolID = p.ID
		}
	}
	if protocolID == 0 {
		return 0, nil, errors.New("the demo clinic has no \"Short loading\" protocol")
	}
	var info struct{ Timezone string }
	if status, _, err := d.call(context.Background(), "GET", "/api/v1/clinic", "", nil, &info); err != nil || status != 200 {
		return 0, nil, fmt.Errorf("clinic: %d %v", status, err)
	}
	zone, err = time.LoadLocation(info.Timezone)
	return protocolID, zone, err
}

// infusiondesk runs one command of the binary against dbURL.
func infusiondesk(bin, dbURL string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	return cmd.CombinedOutput()
}

// saveCheckpoint keeps the audit log's signed head in path, as an operator's
// cron job does.
func saveCheckpoint(bin, dbURL, path string) error {
	cmd := exec.Command(bin, "audit", "checkpoint")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w: %s", err, stderr.Bytes())
	}
	return os.WriteFile(path, out, 0o644)
}

// useSigningKey makes a fresh audit signing key and puts it in the
// environment every server and `audit verify` the drill starts inherits:
// the key is outside the database, as in production.
func useSigningKey(bin string) error {
	out, err := exec.Command(bin, "audit", "keygen", "--name", "drill").Output()
	if err != nil {
		return fmt.Errorf("audit keygen: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if key, ok := strings.CutPrefix(line, "AUDIT_SIGNING_KEY="); ok {
			return os.Setenv("AUDIT_SIGNING_KEY", key)
		}
	}
	return fmt.Errorf("audit keygen printed no key: %s", out)
}
