package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/server"
)

// logLines collects the server's JSON log lines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// trips returns the round trips and transactions the request log line
// for the last request to path reports.
func (l *logLines) trips(t *testing.T, path string) (roundTrips, transactions int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	found := false
	for _, line := range strings.Split(l.buf.String(), "\n") {
		var e struct {
			Msg          string
			Path         string
			RoundTrips   *int `json:"db_round_trips"`
			Transactions *int `json:"db_transactions"`
		}
		if json.Unmarshal([]byte(line), &e) != nil || e.Msg != "request" || e.Path != path || e.RoundTrips == nil {
			continue
		}
		roundTrips, transactions, found = *e.RoundTrips, *e.Transactions, true
	}
	if !found {
		t.Fatalf("no request line for %s in the log", path)
	}
	return roundTrips, transactions
}

// A signed-in page costs at most two transactions: the session check
// (which also reads the clinic's settings version) and the page's reads
// with their audit rows. The clinic's settings come from the cache.
func TestSignedInPageIsTwoTransactions(t *testing.T) {
	logs := &logLines{}
	f := newLoggedFixture(t, slog.New(slog.NewJSONHandler(logs, nil)))
	desk, patient, nurse := f.signIn(clinic.RoleFrontDesk), f.signIn(clinic.RolePatient), f.signIn(clinic.RoleNurse)
	token := f.token(clinic.RoleFrontDesk)
	today := time.Now().Format("2006-01-02")
	twoWeeks := time.Now().AddDate(0, 0, 14).Format("2006-01-02")
	for _, tc := range []struct {
		name   string
		path   string // as logged
		client *http.Client
		url    string
		max    int // round trips, for the record: the budget is transactions
	}{
		{"the day view", "/desk/calendar", desk, "/desk/calendar?date=" + today, 0},
		{"the week", "/desk/week", desk, "/desk/week", 0},
		{"a patient's page", "/desk/patients/1", desk, fmt.Sprintf("/desk/patients/%d", 1), 0},
		{"the nurse floor", "/nurse/", nurse, "/nurse/", 0},
		{"the portal", "/portal/", patient, "/portal/", 0},
		{"the appointment list (API)", "/api/v1/appointments", nil, "/api/v1/appointments?from=" + today + "&to=" + twoWeeks, 0},
	} {
		for range 2 { // the second time, from a warm cache
			if tc.client == nil {
				if status, _, _ := f.api("GET", tc.url, token, nil); status != http.StatusOK {
					t.Fatalf("%s: %d", tc.name, status)
				}
			} else if resp, _ := f.get(tc.client, tc.url); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", tc.name, resp.StatusCode)
			}
		}
		trips, txs := logs.trips(t, tc.path)
		t.Logf("%s: %d round trips, %d transactions", tc.name, trips, txs)
		if txs > 2 {
			t.Errorf("%s: %d transactions (%d round trips); want at most 2", tc.name, txs, trips)
		}
	}
}

// Two servers cache the clinic's settings; a change through one is seen by
// the other's very next request (the version read with the session), for
// the clinic row and for closures alike.
func TestSettingsCacheNeverStaleAcrossServers(t *testing.T) {
	a := newFixture(t)
	other, err := postgres.Open(context.Background(), a.dbURL, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	b := httptest.NewServer(server.New(other, server.DefaultConfig(), testLogger(t)))
	defer b.Close()
	admin, desk := a.token(clinic.RoleAdmin), a.token(clinic.RoleFrontDesk)
	getB := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest("GET", b.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+desk)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s on the other server: %d %v", path, resp.StatusCode, err)
		}
	}
	onB := func(path string) map[string]any {
		t.Helper()
		var v map[string]any
		getB(path, &v)
		return v
	}
	day := time.Now().AddDate(0, 0, 30)
	var d string
	closed := func() string {
		availability := "/api/v1/availability?from=" + d + "&to=" + d + "&minutes=60"
		days, _ := onB(availability)["days"].([]any)
		if len(days) != 1 {
			t.Fatalf("availability for %s: %v", d, days)
		}
		c, _ := days[0].(map[string]any)["closed"].(string)
		return c
	}
	for d = day.Format("2006-01-02"); closed() != ""; d = day.Format("2006-01-02") {
		day = day.AddDate(0, 0, 1) // a day the demo keeps open
	}
	for range 3 { // both caches warm
		onB("/api/v1/clinic")
		a.api("GET", "/api/v1/clinic", desk, nil)
		if c := closed(); c != "" {
			t.Fatalf("%s closed before any change: %q", d, c)
		}
	}
	_, _, cur := a.api("GET", "/api/v1/clinic", admin, nil)
	settings := cur.(map[string]any)
	settings["name"] = "Desert Bloom Renamed"
	if status, _, body := a.api("PUT", "/api/v1/clinic", admin, settings); status != http.StatusOK {
		t.Fatalf("renaming on one server: %d %v", status, body)
	}
	if name := onB("/api/v1/clinic")["name"]; name != "Desert Bloom Renamed" {
		t.Fatalf("the other server's next request says the clinic is %q", name)
	}
	if status, _, body := a.api("POST", "/api/v1/closures", admin, map[string]string{"date": d, "reason": "Staff training"}); status != http.StatusCreated {
		t.Fatalf("closing %s: %d %v", d, status, body)
	}
	if c := closed(); c != "Staff training" {
		t.Fatalf("the other server's next request after a closure: closed %q", c)
	}
	if status, _, _ := a.api("DELETE", "/api/v1/closures/"+d, admin, nil); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("reopening %s: %d", d, status)
	}
	if c := closed(); c != "" {
		t.Fatalf("the other server's next request after reopening: closed %q", c)
	}
	// The chairs are cached the same way.
	chairs := func() []any {
		var v []any
		getB("/api/v1/chairs", &v)
		return v
	}
	before := len(chairs())
	if _, err := a.db.SaveChair(context.Background(), clinic.Chair{Name: "Chair by the window", Position: 99, Active: true}); err != nil {
		t.Fatal(err)
	}
	if after := len(chairs()); after != before+1 {
		t.Fatalf("the other server lists %d chairs after one was added to %d", after, before)
	}
}
