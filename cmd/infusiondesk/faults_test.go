package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// startServe runs the real binary's serve as a child process and returns
// its base URL once it says it is serving.
func startServe(t *testing.T, bin, dbURL string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "ADDR=127.0.0.1:0", "LOG_LEVEL=warn")
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
