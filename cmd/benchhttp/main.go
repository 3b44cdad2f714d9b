// Command benchhttp drives running infusiondesk servers, each on its own
// demo database, with vegeta (github.com/tsenart/vegeta, as a library) at a
// fixed number of connections, one server at a time, and prints a table:
// requests per second and p50/p99 latency for the day view, the two-week
// appointment list, a patient's page and a booking loop (single
// consultations, each in a slot nobody holds). Where a server serves the
// audit log's checkpoint it also reports the sealing lag it saw.
//
//	benchhttp -target before=http://127.0.0.1:18181 -target after=http://127.0.0.1:18182 -duration 10s -conns 32
//
// make bench-http starts the servers (this tree's and the release before
// the audit log was sealed, commit 1fffe51) and runs it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
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

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const password = "infusiondesk-demo"

type targets []string

func (t *targets) String() string     { return strings.Join(*t, ",") }
func (t *targets) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	var ts targets
	flag.Var(&ts, "target", "name=URL of a server on its own demo database (repeat; run in order)")
	duration := flag.Duration("duration", 10*time.Second, "how long each scenario runs on each server")
	conns := flag.Int("conns", 32, "connections (and workers)")
	only := flag.String("only", "", "run only the scenarios whose name contains this")
	rounds := flag.Int("rounds", 2, "runs of each scenario on each server, alternating servers (the figures add them up)")
	flag.Parse()
	if len(ts) == 0 {
		fmt.Fprintln(os.Stderr, "benchhttp: give at least one -target name=URL")
		os.Exit(2)
	}
	var servers []*server
	for _, t := range ts {
		name, u, ok := strings.Cut(t, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "benchhttp: -target %q: want name=URL\n", t)
			os.Exit(2)
		}
		s, err := prepare(name, u)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchhttp: %s: %v\n", name, err)
			os.Exit(1)
		}
		servers = append(servers, s)
	}
	var rows []row
	for _, sc := range scenarios {
		if !strings.Contains(sc.name, *only) {
			continue
		}
		total := make([]row, len(servers))
		for round := range *rounds {
			for i, s := range servers {
				fmt.Fprintf(os.Stderr, "%-28s %-8s round %d  ", sc.name, s.name, round+1)
				r := s.run(sc, *duration, *conns)
				fmt.Fprintf(os.Stderr, "%8.0f req/s  p50 %6.1f ms  p99 %6.1f ms  ok %5.1f%%\n", r.rps, ms(r.p50), ms(r.p99), r.success*100)
				total[i] = total[i].add(r)
			}
		}
		rows = append(rows, total...)
	}
	print(rows, servers)
}

// server is one server under test, signed in.
type server struct {
	name, base string
	cookie     string // the desk's session cookie (name=value)
	token      string // the desk's API token
	admin      string // an admin's API token, for the audit checkpoint
	patients   []int64
	slots      []slot // free consultation slots, for the booking loop
	next       atomic.Int64
	today      string
	twoWeeks   string
}

type slot struct {
	chair   int64
	start   string
	patient int64
}

type row struct {
	scenario, server string
	rps, success     float64
	p50, p99         time.Duration
	requests         uint64
	lag              time.Duration // the longest sealing lag seen; -1 when the server does not report it
	codes            map[string]int
	// for adding rounds up: successful requests and seconds attacking,
	// and every latency
	ok      float64
	seconds float64
	lat     []time.Duration
}

// add adds round r to the rounds so far: throughput over the time spent
// attacking, percentiles over every request.
func (t row) add(r row) row {
	if t.codes == nil {
		t = row{scenario: r.scenario, server: r.server, lag: -1, codes: map[string]int{}}
	}
	t.lat = append(t.lat, r.lat...)
	t.ok += r.ok
	t.seconds += r.seconds
	t.requests += r.requests
	t.rps = t.ok / t.seconds
	t.success = t.ok / float64(t.requests)
	slices.Sort(t.lat)
	if len(t.lat) > 0 {
		t.p50, t.p99 = t.lat[len(t.lat)/2], t.lat[len(t.lat)*99/100]
	}
	t.lag = max(t.lag, r.lag)
	for c, n := range r.codes {
		t.codes[c] += n
	}
	return t
}

type scenario struct {
	name   string
	target func(s *server) vegeta.Targeter
}

var scenarios = []scenario{
	{"day view (page)", func(s *server) vegeta.Targeter {
		return s.get("/desk/calendar?date="+s.today, true)
	}},
	{"GET /api/v1/appointments 2w", func(s *server) vegeta.Targeter {
		return s.get("/api/v1/appointments?from="+s.today+"&to="+s.twoWeeks, false)
	}},
	{"patient page", func(s *server) vegeta.Targeter {
		var i atomic.Int64
		return func(t *vegeta.Target) error {
			p := s.patients[int(i.Add(1))%len(s.patients)]
			t.Method, t.URL, t.Header = "GET", fmt.Sprintf("%s/desk/patients/%d", s.base, p), http.Header{"Cookie": {s.cookie}}
			return nil
		}
	}},
	{"booking loop (POST)", func(s *server) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			i := s.next.Add(1) - 1
			if int(i) >= len(s.slots) {
				return vegeta.ErrNoTargets
			}
			sl := s.slots[i]
			body, _ := json.Marshal(map[string]any{"patient_id": sl.patient, "kind": "consult", "chair_id": sl.chair, "start": sl.start})
			t.Method, t.URL, t.Body = "POST", s.base+"/api/v1/appointments", body
			t.Header = http.Header{"Authorization": {"Bearer " + s.token}, "Content-Type": {"application/json"}}
			return nil
		}
	}},
}

func (s *server) get(path string, page bool) vegeta.Targeter {
	h := http.Header{"Authorization": {"Bearer " + s.token}}
	if page {
		h = http.Header{"Cookie": {s.cookie}}
	}
	return func(t *vegeta.Target) error {
		t.Method, t.URL, t.Header = "GET", s.base+path, h
		return nil
	}
}

// run attacks the server with sc for d at conns connections, watching the
// audit log's sealing lag meanwhile.
func (s *server) run(sc scenario, d time.Duration, conns int) row {
	atk := vegeta.NewAttacker(vegeta.Connections(conns), vegeta.MaxConnections(conns),
		vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)), vegeta.KeepAlive(true),
		vegeta.Timeout(30*time.Second), vegeta.Redirects(vegeta.NoFollow))
	stop := make(chan struct{})
	var lag time.Duration = -1
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if l, ok := s.sealingLag(); ok && l > lag {
				lag = l
			}
		}
	}()
	var m vegeta.Metrics
	var lat []time.Duration
	for res := range atk.Attack(sc.target(s), vegeta.Rate{Freq: 0}, d, sc.name) {
		m.Add(res)
		lat = append(lat, res.Latency)
	}
	m.Close()
	close(stop)
	wg.Wait()
	return row{scenario: sc.name, server: s.name, rps: m.Throughput, success: m.Success, p50: m.Latencies.P50,
		p99: m.Latencies.P99, requests: m.Requests, lag: lag, codes: m.StatusCodes,
		ok: m.Success * float64(m.Requests), seconds: m.Duration.Seconds() + m.Wait.Seconds(), lat: lat}
}

// sealingLag is how long the oldest unsealed audit row has waited, where
// the server says.
func (s *server) sealingLag() (time.Duration, bool) {
	if s.admin == "" {
		return 0, false
	}
	var cp struct {
		LagSeconds float64 `json:"lag_seconds"`
	}
	if s.getJSON(s.admin, "/api/v1/audit/checkpoint", &cp) != nil {
		return 0, false
	}
	return time.Duration(cp.LagSeconds * float64(time.Second)), true
}

// prepare signs in and gathers what the scenarios need: patients, and the
// free consultation slots of the days from 150 to 540 days ahead (beyond
// the demo's bookings and its roster).
func prepare(name, base string) (*server, error) {
	s := &server{name: name, base: base}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(base+"/login", url.Values{"email": {"desk@desertbloom.example"}, "password": {password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		s.cookie = c.Name + "=" + c.Value
	}
	if resp.StatusCode != http.StatusSeeOther || s.cookie == "" {
		return nil, fmt.Errorf("signing in: %d", resp.StatusCode)
	}
	if s.token, err = token(base, "desk@desertbloom.example"); err != nil {
		return nil, err
	}
	if admin, err := token(base, "admin@desertbloom.example"); err == nil {
		s.admin = admin
		if _, ok := s.sealingLag(); !ok {
			s.admin = "" // a server without the sealed audit log
		}
	}
	var clinic struct {
		TimeZone string `json:"timezone"`
	}
	if err := s.api("/api/v1/clinic", &clinic); err != nil {
		return nil, err
	}
	zone, err := time.LoadLocation(clinic.TimeZone)
	if err != nil {
		return nil, err
	}
	now := time.Now().In(zone)
	s.today, s.twoWeeks = now.Format("2006-01-02"), now.AddDate(0, 0, 13).Format("2006-01-02")
	var patients []struct {
		ID int64 `json:"id"`
	}
	if err := s.api("/api/v1/patients?q=", &patients); err != nil || len(patients) == 0 {
		return nil, fmt.Errorf("listing patients: %v (%d)", err, len(patients))
	}
	for _, p := range patients {
		s.patients = append(s.patients, p.ID)
	}
	for day := 150; day <= 540 && len(s.slots) < 60000; day += 30 {
		from, to := now.AddDate(0, 0, day).Format("2006-01-02"), now.AddDate(0, 0, day+29).Format("2006-01-02")
		var av struct {
			Days []struct {
				Date   string `json:"date"`
				Chairs []struct {
					ChairID int64    `json:"chair_id"`
					Starts  []string `json:"starts"`
				} `json:"chairs"`
			} `json:"days"`
		}
		if err := s.api("/api/v1/availability?from="+from+"&to="+to+"&minutes=30", &av); err != nil {
			break // the booking horizon
		}
		for _, d := range av.Days {
			for _, c := range d.Chairs {
				for _, st := range c.Starts {
					t, err := time.ParseInLocation("2006-01-02 15:04", d.Date+" "+st, zone)
					if err != nil || t.Minute()%30 != 0 {
						continue
					}
					s.slots = append(s.slots, slot{chair: c.ChairID, start: t.Format(time.RFC3339)})
				}
			}
		}
	}
	if len(s.slots) == 0 {
		return nil, fmt.Errorf("no free slots to book")
	}
	// Per start, the chairs' slots go to different patients, in turn; a
	// patient's half-hour consultations on the half-hour grid never overlap.
	sort.SliceStable(s.slots, func(i, j int) bool { return s.slots[i].start < s.slots[j].start })
	for i := range s.slots {
		s.slots[i].patient = s.patients[i%len(s.patients)]
	}
	// In an order 32 desks would book them: spread over the days, the
	// same order on every server.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(s.slots), func(i, j int) { s.slots[i], s.slots[j] = s.slots[j], s.slots[i] })
	fmt.Fprintf(os.Stderr, "%s: %s, %d patients, %d free slots for the booking loop, audit lag %v\n", name, base, len(s.patients), len(s.slots), s.admin != "")
	return s, nil
}

func token(base, email string) (string, error) {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(base+"/api/v1/auth/token", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	if tok.Token == "" {
		return "", fmt.Errorf("token for %s: %d", email, resp.StatusCode)
	}
	return tok.Token, nil
}

// api reads path as the desk.
func (s *server) api(path string, out any) error { return s.getJSON(s.token, path, out) }

// getJSON reads path with the bearer token into out.
func (s *server) getJSON(token, path string, out any) error {
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// print writes the table: each scenario on each server, and each later
// server's throughput as a multiple of the first's.
func print(rows []row, servers []*server) {
	fmt.Printf("\n| scenario | server | req/s | × %s | p50 ms | p99 ms | ok | statuses | sealing lag |\n|---|---|---:|---:|---:|---:|---:|---|---:|\n", servers[0].name)
	base := map[string]float64{}
	for _, r := range rows {
		if r.server == servers[0].name {
			base[r.scenario] = r.rps
		}
		factor := "—"
		if b := base[r.scenario]; b > 0 {
			factor = fmt.Sprintf("%.2f", r.rps/b)
		}
		lag := "—"
		if r.lag >= 0 {
			lag = fmt.Sprintf("%.2f s", r.lag.Seconds())
		}
		var codes []string
		for c, n := range r.codes {
			codes = append(codes, fmt.Sprintf("%s×%d", c, n))
		}
		sort.Strings(codes)
		fmt.Printf("| %s | %s | %.0f | %s | %.1f | %.1f | %.1f%% | %s | %s |\n", r.scenario, r.server, r.rps, factor,
			ms(r.p50), ms(r.p99), r.success*100, strings.Join(codes, " "), lag)
	}
}
