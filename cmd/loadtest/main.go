// Command loadtest simulates a clinic day against one or more running
// infusiondesk servers sharing a database: front-desk staff searching,
// opening day views, checking availability, booking single visits and
// whole loading series; nurses opening the floor, reading infusions and
// recording relief; patients reading their portal. Each client signs in
// once and spreads its requests over every server (sessions live in the
// database). It prints throughput and latency percentiles per operation,
// then checks the database: no overlapping active appointments per chair
// or patient, no partial series, an audit row for every write.
//
//	loadtest -targets http://127.0.0.1:18081,http://127.0.0.1:18082 -clients 32 -duration 60s
//
// DATABASE_URL (a role that may read every table) is used for the checks.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

const password = "infusiondesk-demo"

func main() {
	targets := flag.String("targets", "http://127.0.0.1:18081", "comma-separated server URLs sharing one database")
	clients := flag.Int("clients", 32, "concurrent clients")
	duration := flag.Duration("duration", 60*time.Second, "how long to run")
	maxRequests := flag.Int64("max-requests", 200000, "stop after this many requests")
	flag.Parse()
	if err := run(strings.Split(*targets, ","), *clients, *duration, *maxRequests, os.Getenv("DATABASE_URL")); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// stats gathers every request's outcome and latency per operation.
type stats struct {
	mu      sync.Mutex
	ops     map[string]*opStats
	total   atomic.Int64
	maximum int64
}

type opStats struct {
	latencies []time.Duration
	ok        int // 2xx and 3xx
	refused   int // 409 and 422: the product saying no, as designed
	failed    int // anything else: 5xx, unexpected 4xx, transport errors
	statuses  map[int]int
}

func (s *stats) record(op string, status int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ops[op]
	if o == nil {
		o = &opStats{statuses: map[int]int{}}
		s.ops[op] = o
	}
	o.latencies = append(o.latencies, d)
	o.statuses[status]++
	switch {
	case status >= 200 && status < 400:
		o.ok++
	case status == http.StatusConflict || status == http.StatusUnprocessableEntity:
		o.refused++
	default:
		o.failed++
	}
}

// client is one person at a keyboard, signed in once, using every server.
type client struct {
	role    string
	token   string
	http    *http.Client
	targets []string
	stats   *stats
	rng     *rand.Rand
	n       int
}

func (c *client) target() string {
	c.n++
	return c.targets[c.n%len(c.targets)]
}

// do sends one request and records it; body and answer are JSON for the API.
func (c *client) do(ctx context.Context, op, method, path string, body any, out any) int {
	if c.stats.total.Add(1) > c.stats.maximum {
		return 0
	}
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctx, method, c.target()+path, r)
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
		if out != nil && status < 300 {
			json.NewDecoder(resp.Body).Decode(out)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if ctx.Err() != nil && err != nil {
		return 0 // the run ended mid-request: not a failure of the server
	}
	c.stats.record(op, status, time.Since(start))
	return status
}

func signIn(target, role string, s *stats) (*client, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	email := map[string]string{"desk": "desk@desertbloom.example", "nurse": "nurse@desertbloom.example", "patient": "patient@desertbloom.example"}[role]
	resp, err := hc.PostForm(target+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in as %s: %d", role, resp.StatusCode)
	}
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err = hc.Post(target+"/api/v1/auth/token", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.Token == "" {
		return nil, fmt.Errorf("token for %s: %d", role, resp.StatusCode)
	}
	return &client{role: role, token: tok.Token, http: hc, stats: s}, nil
}

type availability struct {
	Days []struct {
		Date   string
		Chairs []struct {
			ChairID int64 `json:"chair_id"`
			Starts  []string
		}
	}
}

type patientRef struct {
	ID       int64  `json:"id"`
	LastName string `json:"last_name"`
}

// work is one client's loop until the context ends.
func (c *client) work(ctx context.Context, patients []patientRef, protocolID int64, zone *time.Location) {
	today := time.Now().In(zone)
	for ctx.Err() == nil && c.stats.total.Load() < c.stats.maximum {
		switch c.role {
		case "desk":
			p := patients[c.rng.IntN(len(patients))]
			c.do(ctx, "desk: search patients", "GET", "/api/v1/patients?q="+url.QueryEscape(strings.ToLower(p.LastName[:3])), nil, nil)
			day := today.AddDate(0, 0, 1+c.rng.IntN(40)).Format("2006-01-02")
			c.do(ctx, "desk: day view (page)", "GET", "/desk/calendar?date="+day, nil, nil)
			var av availability
			if c.do(ctx, "desk: availability 1 day", "GET", "/api/v1/availability?from="+day+"&to="+day+"&minutes=90", nil, &av) == 200 && len(av.Days) == 1 {
				var options [][2]string
				for _, ch := range av.Days[0].Chairs {
					for _, s := range ch.Starts {
						options = append(options, [2]string{fmt.Sprint(ch.ChairID), s})
					}
				}
				if len(options) > 0 {
					o := options[c.rng.IntN(len(options))]
					start, _ := time.ParseInLocation("2006-01-02 15:04", day+" "+o[1], zone)
					var chair int64
					fmt.Sscan(o[0], &chair)
					// Who could take that time (a freed chair's fill page).
					c.do(ctx, "desk: fill candidates", "GET", "/api/v1/fill-candidates?minutes=90&start="+url.QueryEscape(start.Format(time.RFC3339)), nil, nil)
					// A consultation: most demo patients have their next
					// infusion booked already, and a second is refused.
					c.do(ctx, "desk: book a visit", "POST", "/api/v1/appointments", map[string]any{"patient_id": p.ID, "kind": "consult",
						"start": start.Format(time.RFC3339), "chair_id": chair}, nil)
				}
			}
			// The reports read the booking engine's tables while it books:
			// the forecast (every plan, every booked visit ahead) and the
			// loading work list, now and then.
			switch c.rng.IntN(8) {
			case 0:
				c.do(ctx, "desk: forecast report", "GET", "/api/v1/reports/forecast?weeks=12", nil, nil)
			case 1:
				c.do(ctx, "desk: loading report", "GET", "/api/v1/reports/loading", nil, nil)
			}
			if c.rng.IntN(4) == 0 {
				var np patientRef
				n := c.rng.IntN(1e6)
				if c.do(ctx, "desk: register a patient", "POST", "/api/v1/patients", map[string]any{"first_name": "Load", "last_name": fmt.Sprintf("Tester%d", n),
					"date_of_birth": "1970-01-01", "condition": "other", "weight_kg": 70,
					"email": fmt.Sprintf("load%d@example.com", n), "phone": fmt.Sprintf("(602) 555-01%02d", n%100)}, &np) == 201 {
					first := today.AddDate(0, 0, 2+c.rng.IntN(30)).Format("2006-01-02")
					c.do(ctx, "desk: book a loading series", "POST", fmt.Sprintf("/api/v1/patients/%d/loading-series", np.ID),
						map[string]any{"protocol_id": protocolID, "start_date": first, "preferred_time": "09:00"}, nil)
				}
			}
		case "nurse":
			c.do(ctx, "nurse: infusion floor (page)", "GET", "/nurse", nil, nil)
			p := patients[c.rng.IntN(len(patients))]
			var infusions []struct {
				ID   int64  `json:"id"`
				Date string `json:"date"`
			}
			c.do(ctx, "nurse: patient's infusions", "GET", fmt.Sprintf("/api/v1/patients/%d/infusions", p.ID), nil, &infusions)
			if len(infusions) > 0 {
				c.do(ctx, "nurse: relief report", "POST", fmt.Sprintf("/api/v1/infusions/%d/relief", infusions[0].ID),
					map[string]any{"status": "holding", "date": today.Format("2006-01-02")}, nil)
			}
			c.do(ctx, "nurse: patient's plan", "GET", fmt.Sprintf("/api/v1/patients/%d/plan", p.ID), nil, nil)
		case "patient":
			c.do(ctx, "patient: portal (page)", "GET", "/portal", nil, nil)
			c.do(ctx, "patient: my appointments", "GET", "/api/v1/me/appointments", nil, nil)
			c.do(ctx, "patient: booking options", "GET", "/api/v1/me/booking-options", nil, nil)
		}
	}
}

func run(targets []string, clients int, duration time.Duration, maxRequests int64, dbURL string) error {
	if dbURL == "" {
		return errors.New("DATABASE_URL is needed for the checks at the end")
	}
	s := &stats{ops: map[string]*opStats{}, maximum: maxRequests}
	setup, err := signIn(targets[0], "desk", s)
	if err != nil {
		return err
	}
	setup.targets = targets
	var patients []patientRef
	if setup.do(context.Background(), "setup", "GET", "/api/v1/patients?q=", nil, &patients) != 200 || len(patients) == 0 {
		return errors.New("could not list patients (is the demo clinic loaded?)")
	}
	var protocols []struct {
		ID   int64
		Name string
	}
	setup.do(context.Background(), "setup", "GET", "/api/v1/protocols", nil, &protocols)
	var protocolID int64
	for _, p := range protocols {
		if p.Name == "Short loading" {
			protocolID = p.ID
		}
	}
	var clinicInfo struct{ Timezone string }
	setup.do(context.Background(), "setup", "GET", "/api/v1/clinic", nil, &clinicInfo)
	zone, err := time.LoadLocation(clinicInfo.Timezone)
	if err != nil {
		return err
	}
	delete(s.ops, "setup")
	s.total.Store(0)

	var all []*client
	for i := 0; i < clients; i++ {
		role := "desk"
		switch {
		case i%10 >= 7:
			role = "patient"
		case i%10 >= 5:
			role = "nurse"
		}
		c, err := signIn(targets[i%len(targets)], role, s)
		if err != nil {
			return err
		}
		c.targets, c.rng, c.n = targets, rand.New(rand.NewPCG(uint64(i), 42)), i
		all = append(all, c)
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.work(ctx, patients, protocolID, zone)
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	report(s, elapsed, clients, targets)
	return check(dbURL, started, s)
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[int(float64(len(ds)-1)*p)]
}

func report(s *stats, elapsed time.Duration, clients int, targets []string) {
	fmt.Printf("\n%d clients, %d servers, %s, %d requests (%.0f/s)\n\n", clients, len(targets), elapsed.Round(time.Second), s.total.Load(),
		float64(s.total.Load())/elapsed.Seconds())
	fmt.Printf("%-30s %8s %8s %8s %8s %9s %9s %9s\n", "operation", "requests", "per s", "ok", "refused", "failed", "p50", "p99")
	var names []string
	for n := range s.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := s.ops[n]
		slices.Sort(o.latencies)
		fmt.Printf("%-30s %8d %8.1f %8d %8d %9d %9s %9s\n", n, len(o.latencies), float64(len(o.latencies))/elapsed.Seconds(), o.ok, o.refused, o.failed,
			pct(o.latencies, 0.50).Round(100*time.Microsecond), pct(o.latencies, 0.99).Round(100*time.Microsecond))
		if o.failed > 0 {
			fmt.Printf("    statuses: %v\n", o.statuses)
		}
	}
}

// check looks for any broken promise in the database after the run.
func check(dbURL string, since time.Time, s *stats) error {
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	checks := []struct{ name, sql string }{
		{"overlapping active appointments in one chair", `
			SELECT count(*) FROM appointments a JOIN appointments b ON a.chair_id = b.chair_id AND a.id < b.id
			WHERE a.status IN ('booked', 'checked_in', 'completed') AND b.status IN ('booked', 'checked_in', 'completed')
			  AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')`},
		{"overlapping active appointments of one patient", `
			SELECT count(*) FROM appointments a JOIN appointments b ON a.patient_id = b.patient_id AND a.id < b.id
			WHERE a.status IN ('booked', 'checked_in', 'completed') AND b.status IN ('booked', 'checked_in', 'completed')
			  AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')`},
		{"a nurse watching more patients at once than the clinic allows", `
			WITH w AS (SELECT id, nurse_id, starts_at, ends_at FROM appointments
			           WHERE nurse_id IS NOT NULL AND status IN ('booked', 'checked_in', 'completed'))
			SELECT count(*) FROM w a WHERE (SELECT count(*) FROM w b WHERE b.nurse_id = a.nurse_id
			    AND b.starts_at <= a.starts_at AND b.ends_at > a.starts_at) > (SELECT patients_per_nurse FROM clinic)`},
		{"one nurse's starts closer than the clinic's spacing", `
			SELECT count(*) FROM appointments a JOIN appointments b ON a.nurse_id = b.nurse_id AND a.id < b.id
			WHERE a.status IN ('booked', 'checked_in', 'completed') AND b.status IN ('booked', 'checked_in', 'completed')
			  AND abs(extract(epoch FROM a.starts_at - b.starts_at)) < 60 * (SELECT start_spacing_minutes FROM clinic)`},
		{"infusions on a rostered day without a nurse", `
			SELECT count(*) FROM appointments a WHERE a.nurse_id IS NULL AND a.kind <> 'consult'
			  AND a.status IN ('booked', 'checked_in', 'completed')
			  AND EXISTS (SELECT 1 FROM nurse_shifts s WHERE s.on_date = a.local_date)`},
		{"two infusions of one patient on one day", `
			SELECT count(*) FROM (SELECT 1 FROM appointments WHERE kind <> 'consult' AND status IN ('booked', 'checked_in', 'completed')
			GROUP BY patient_id, local_date HAVING count(*) > 1) x`},
		{"two next infusions booked for one patient", `
			SELECT count(*) FROM (SELECT 1 FROM appointments WHERE kind = 'maintenance' AND status = 'booked' AND additional_reason IS NULL
			GROUP BY patient_id HAVING count(*) > 1) x`},
		{"partial series booked during the run", `
			SELECT count(*) FROM loading_series ls JOIN courses c ON c.id = ls.course_id
			WHERE ls.created_at >= $1 AND ls.cancelled_at IS NULL
			  AND (SELECT count(*) FROM appointments a WHERE a.series_id = ls.id AND a.status IN ('booked', 'checked_in', 'completed')) <> c.sessions`},
		{"appointments booked during the run without an audit row", `
			SELECT count(*) FROM appointments a WHERE a.created_at >= $1 AND NOT EXISTS (
				SELECT 1 FROM audit_log l WHERE (l.action = 'appointment.book' AND l.entity_id = a.id)
				   OR (l.action = 'series.book' AND l.entity_id = a.series_id))`},
		{"bookings during the run without their confirmation message", `
			SELECT count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id
			WHERE a.created_at >= $1 AND 'email' = ANY (p.contact_by) AND NOT EXISTS (
				SELECT 1 FROM messages m WHERE m.kind = 'confirmation' AND m.channel = 'email'
				   AND m.visits @> jsonb_build_array(jsonb_build_object('id', a.id)))`},
		{"patients registered during the run without an audit row", `
			SELECT count(*) FROM patients p WHERE p.created_at >= $1 AND NOT EXISTS (
				SELECT 1 FROM audit_log l WHERE l.action = 'patient.create' AND l.entity_id = p.id)`},
		{"relief reports during the run without an audit row", `
			SELECT (SELECT count(*) FROM relief_reports WHERE created_at >= $1)
			     - (SELECT count(*) FROM audit_log WHERE action = 'relief.report' AND at >= $1)`},
	}
	// The audit log's sealers (one per server, taking turns) seal every
	// row written during the run within a second or so of its commit.
	var lastRow int64
	if err := db.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM audit_log`).Scan(&lastRow); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	checks = append(checks, struct{ name, sql string }{"audit rows of the run not sealed 2 s after it ended",
		fmt.Sprintf(`SELECT count(*) FROM audit_log WHERE seq <= %d AND seq > (SELECT last_seq FROM audit_seal)`, lastRow)})
	fmt.Println()
	broken := 0
	for _, c := range checks {
		var n int64
		var args []any // the checks of the whole table take no start time
		if strings.Contains(c.sql, "$1") {
			args = append(args, since)
		}
		if err := db.QueryRow(ctx, c.sql, args...).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		mark := "ok"
		if n > 0 {
			mark, broken = "VIOLATED", broken+1
		}
		fmt.Printf("%-60s %6d  %s\n", c.name, max(n, 0), mark)
	}
	failed := 0
	for _, o := range s.ops {
		failed += o.failed
	}
	fmt.Printf("%-60s %6d  %s\n", "requests failed (5xx, unexpected 4xx, transport)", failed, map[bool]string{true: "ok", false: "FAILED"}[failed == 0])
	if broken > 0 || failed > 0 {
		return fmt.Errorf("%d invariants violated, %d requests failed", broken, failed)
	}
	return nil
}
