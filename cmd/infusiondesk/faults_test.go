package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/devdb"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// startServe runs the real binary's serve as a child process and returns
// its base URL once it says it is serving.
func startServe(t *testing.T, bin, dbURL string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), "DATABASE_URL="+dbURL, "ADDR=127.0.0.1:0", "LOG_LEVEL=warn"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("serve did not start: %v", err)
	}
	return cmd, strings.Fields(strings.TrimPrefix(line, "infusiondesk is serving "))[0]
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "infusiondesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// SIGKILL in the middle of series bookings: afterwards every series is
// whole or absent, and the server serves again after a restart.
func TestSIGKILLDuringSeriesBookingsLeavesNoPartialSeries(t *testing.T) {
	bin := buildBinary(t)
	dbURL := pgtest.NewDatabase(t)
	if _, err := cli(t, map[string]string{"DATABASE_URL": dbURL}, "", "demo"); err != nil {
		t.Fatal(err)
	}
	cmd, base := startServe(t, bin, dbURL)
	post := func(path, token string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	_, tok := post("/api/v1/auth/token", "", map[string]string{"email": "desk@" + demo.Domain, "password": demo.Password})
	token, _ := tok["token"].(string)
	if token == "" {
		t.Fatal("no token")
	}
	var protocols []map[string]any
	req, _ := http.NewRequest("GET", base+"/api/v1/protocols", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&protocols)
	resp.Body.Close()
	protocol := protocols[0]["id"]

	// Eight desks book series as fast as they can; the server is killed mid-flight.
	var wg sync.WaitGroup
	var booked sync.Map
	stop := time.Now().Add(1500 * time.Millisecond)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(stop); n++ {
				status, p := post("/api/v1/patients", token, map[string]any{"first_name": "Kill", "last_name": fmt.Sprintf("Test%d-%d", i, n),
					"date_of_birth": "1970-01-01", "condition": "other"})
				if status != 201 {
					return
				}
				start := time.Now().AddDate(0, 0, 3+n%20).Format("2006-01-02")
				if status, _ := post(fmt.Sprintf("/api/v1/patients/%v/loading-series", p["id"]), token,
					map[string]any{"protocol_id": protocol, "start_date": start}); status == 201 {
					booked.Store(p["id"], true)
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	wg.Wait()

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var series, partial int
	err = conn.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE (SELECT count(*) FROM appointments a WHERE a.series_id = ls.id) <> c.sessions)
		FROM loading_series ls JOIN courses c ON c.id = ls.course_id JOIN patients p ON p.id = ls.patient_id
		WHERE p.last_name LIKE 'Test%'`).Scan(&series, &partial)
	if err != nil {
		t.Fatal(err)
	}
	if series == 0 {
		t.Fatal("no series was booked before the kill; the test proves nothing")
	}
	if partial != 0 {
		t.Fatalf("%d of %d series are partial after SIGKILL", partial, series)
	}
	t.Logf("%d series booked before SIGKILL, none partial", series)
	// Restarted, the server serves again.
	_, base = startServe(t, bin, dbURL)
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if i > 50 {
			t.Fatal("not ready after the restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A PostgreSQL of the test's own: down when the server starts, then up;
// restarted while the server is under load.
func TestPostgresDownAtStartAndRestartedUnderLoad(t *testing.T) {
	ctx := context.Background()
	cluster, err := devdb.Open(filepath.Join(t.TempDir(), "pg"))
	if err != nil {
		t.Fatal(err)
	}
	cluster.Fast = true
	port, err := freeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	cluster.PreferredPort = port
	t.Cleanup(func() { cluster.Stop(context.Background()) })
	dbURL := devdb.URL(port, "faults")
	bin := buildBinary(t)

	// Down at start: the server serves /healthz, says not ready, and logs
	// that it retries.
	cmd := exec.Command(bin, "serve")
	var logs syncBuffer
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "ADDR=127.0.0.1:0", "LOG_LEVEL=info")
	cmd.Stderr = &logs
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.Fields(strings.TrimPrefix(line, "infusiondesk is serving "))[0]
	status := func(path string) int {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + path)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		return resp.StatusCode
	}
	if status("/healthz") != 200 || status("/readyz") != 503 {
		t.Fatalf("database down at start: healthz %d, readyz %d", status("/healthz"), status("/readyz"))
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "database not ready, retrying") }, "a retry log line")

	// Up: migrate and load the demo with the CLI, and the same server becomes ready.
	if _, err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := devdb.EnsureDatabase(ctx, port, "faults"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, map[string]string{"DATABASE_URL": dbURL}, "", "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, map[string]string{"DATABASE_URL": dbURL}, "", "demo"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return status("/readyz") == 200 }, "ready once the database is up")

	// Under load, PostgreSQL restarts: during the gap requests fail cleanly
	// (503 pages without internals), afterwards they succeed again.
	login := func() (int, string) {
		resp, err := (&http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
			PostForm(base+"/login", map[string][]string{"email": {"nurse@" + demo.Domain}, "password": {demo.Password}})
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	var mu sync.Mutex
	seen := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, body := login()
				mu.Lock()
				seen[code]++
				mu.Unlock()
				if code >= 500 && (strings.Contains(body, "dial") || strings.Contains(body, "127.0.0.1:"+fmt.Sprint(port))) {
					t.Errorf("a failure page shows internals: %s", body)
				}
				if code == 500 {
					t.Errorf("a 500 during the restart")
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return status("/readyz") == 503 }, "not ready while PostgreSQL is down")
	time.Sleep(500 * time.Millisecond)
	if _, err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return status("/readyz") == 200 }, "ready again after the restart")
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if code, _ := login(); code != http.StatusSeeOther {
		t.Fatalf("after the restart, sign-in answers %d", code)
	}
	if seen[http.StatusServiceUnavailable] == 0 || seen[http.StatusSeeOther] == 0 {
		t.Fatalf("statuses during the restart: %v; want sign-ins before and after, 503s in the gap", seen)
	}
	t.Logf("statuses during the restart: %v", seen)
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer safe for the child's writes and our reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SIGTERM to the real process under load: requests in flight get their
// answers (no reset connections, no 5xx), new connections are refused once
// it has stopped, and it exits 0.
func TestSIGTERMUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	dbURL := pgtest.NewDatabase(t)
	if _, err := cli(t, map[string]string{"DATABASE_URL": dbURL}, "", "demo"); err != nil {
		t.Fatal(err)
	}
	// The server's own log says which requests it started and which it
	// answered (LOG_FORMAT=json, debug): the test needs no timing guess.
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "ADDR=127.0.0.1:0", "LOG_LEVEL=debug", "LOG_FORMAT=json")
	out, w, err := os.Pipe() // the address on stdout, the log on stderr: both read here
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := make(chan string, 1)
	started, answered := map[string]bool{}, map[string]bool{}
	var logMu sync.Mutex
	enough := make(chan struct{}) // 40 sign-ins started: the clients are well under way
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "infusiondesk is serving ") {
				base <- strings.Fields(strings.TrimPrefix(line, "infusiondesk is serving "))[0]
				continue
			}
			var e struct {
				Msg, Path string
				ID        string `json:"request_id"`
			}
			if json.Unmarshal([]byte(line), &e) != nil || e.Path != "/login" {
				continue
			}
			logMu.Lock()
			switch e.Msg {
			case "request started":
				started[e.ID] = true
				if len(started) == 40 {
					close(enough)
				}
			case "request":
				answered[e.ID] = true
			}
			logMu.Unlock()
		}
	}()
	var url string
	select {
	case url = <-base:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}

	var mu sync.Mutex
	received := map[string]bool{} // request ids of the answers the clients got
	var sent, failed int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 20 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.PostForm(url+"/login", map[string][]string{"email": {"nobody@" + demo.Domain}, "password": {"wrong password"}})
				mu.Lock()
				sent++
				if err != nil {
					failed++ // never started by the server: checked against its log below
				} else {
					received[resp.Header.Get("X-Request-ID")] = true
					if resp.StatusCode != 401 && resp.StatusCode != 429 {
						t.Errorf("a sign-in during shutdown answered %d", resp.StatusCode)
					}
					resp.Body.Close()
				}
				mu.Unlock()
				if err != nil {
					return // the server is going away
				}
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		t.Fatal("no sign-in reached the server")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	werr := cmd.Wait()
	close(stop)
	wg.Wait()
	<-logDone
	if werr != nil {
		t.Fatalf("serve exited with %v; want 0", werr)
	}
	// Every request the server had started was answered, and the answer
	// reached its client; the clients' errors are requests the server
	// never started (refused or reset before it accepted them).
	for id := range started {
		if !answered[id] {
			t.Errorf("request %s was started but never answered", id)
		}
		if !received[id] {
			t.Errorf("request %s was answered but its client got no answer", id)
		}
	}
	if len(received) != len(started) || sent-failed != len(started) {
		t.Errorf("%d sent, %d failed, %d answers received; the server started %d", sent, failed, len(received), len(started))
	}
	t.Logf("%d sign-ins sent, %d started and answered by the server, %d never started", sent, len(started), failed)
}
