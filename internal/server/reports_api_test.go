package server_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// getCSV fetches a report as CSV with the bearer token.
func getCSV(t *testing.T, f *fixture, path, token string) (int, string, [][]string) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, resp.Header.Get("Content-Type"), nil
	}
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil {
		t.Fatalf("%s: not CSV: %v\n%s", path, err, raw)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), rows
}

// Each report answers JSON (checked against the OpenAPI document) and,
// with ?format=csv, a UTF-8 CSV with a header row; bad input is a 4xx
// naming the field.
func TestReportsAPI(t *testing.T) {
	f := newFixture(t)
	admin, desk, physician := f.token(clinic.RoleAdmin), f.token(clinic.RoleFrontDesk), f.token(clinic.RolePhysician)

	status, _, v := f.api("GET", "/api/v1/reports/utilisation", admin, nil)
	u := v.(map[string]any)
	if status != http.StatusOK || u["open_chair_hours"].(float64) <= 0 || len(u["by_weekday"].([]any)) != 7 {
		t.Fatalf("utilisation: %d %v", status, v)
	}
	for _, tc := range []struct{ path, token, header string }{
		{"/api/v1/reports/utilisation?format=csv", admin, "weekday,hour,open_chair_hours,booked_chair_hours,utilisation"},
		{"/api/v1/reports/forecast?format=csv&weeks=4", desk, "date,week_start,open,capacity_chair_hours,nurse_capacity_patient_hours,booked_chair_hours,planned_chair_hours,planned_patients,problem,over_chair_hours"},
		{"/api/v1/reports/loading?format=csv", physician, "group,key,started,complete,stopped,active,completion_rate"},
		{"/api/v1/reports/outcomes?format=csv&condition=crps", physician, "condition,infusion,reports,median_relief_days"},
	} {
		status, ctype, rows := getCSV(t, f, tc.path, tc.token)
		if status != http.StatusOK || ctype != "text/csv; charset=utf-8" || len(rows) < 2 || strings.Join(rows[0], ",") != tc.header {
			t.Errorf("%s: %d %q %v", tc.path, status, ctype, rows)
		}
	}
	// The CSV says what the JSON says.
	_, _, rows := getCSV(t, f, "/api/v1/reports/utilisation?format=csv", admin)
	if last := rows[len(rows)-1]; last[0] != "all" || last[2] != fmt.Sprint(u["open_chair_hours"]) || last[3] != fmt.Sprint(u["booked_chair_hours"]) {
		t.Errorf("CSV total %v; JSON %v / %v", last, u["open_chair_hours"], u["booked_chair_hours"])
	}

	status, _, v = f.api("GET", "/api/v1/reports/forecast?weeks=12", desk, nil)
	if weeks := v.(map[string]any)["weeks"].([]any); status != http.StatusOK || len(weeks) != 12 {
		t.Fatalf("forecast: %d %v", status, v)
	}
	status, _, v = f.api("GET", "/api/v1/reports/loading?from=2026-01-01&to=2026-12-31", desk, nil)
	if status != http.StatusOK {
		t.Fatalf("loading: %d %v", status, v)
	}
	// Without a period each report takes its own default, the page's and
	// the OpenAPI document's: loading the 90 days to today.
	sched, _ := f.db.Schedule(context.Background())
	today := clinic.DateOf(time.Now(), sched.Loc)
	for path, from := range map[string]clinic.Date{"/api/v1/reports/loading": today.AddDays(-89), "/api/v1/reports/utilisation": today.AddDays(-27),
		"/api/v1/reports/outcomes": clinic.D(today.Year, today.Month-5, 1)} {
		_, _, v := f.api("GET", path, physician, nil)
		if got := v.(map[string]any)["from"]; got != from.String() || v.(map[string]any)["to"] != today.String() {
			t.Errorf("%s: from %v to %v; want %s to %s", path, got, v.(map[string]any)["to"], from, today)
		}
	}
	status, _, v = f.api("GET", "/api/v1/reports/outcomes?condition=neuropathic", physician, nil)
	if cs := v.(map[string]any)["conditions"].([]any); status != http.StatusOK || len(cs) != 1 {
		t.Fatalf("outcomes: %d %v", status, v)
	}

	for _, tc := range []struct{ path, field string }{
		{"/api/v1/reports/utilisation?from=2026-05-01&to=2026-04-01", "to"},
		{"/api/v1/reports/utilisation?from=2025-01-01&to=2026-12-31", "to"},
		{"/api/v1/reports/utilisation?from=soon&to=2026-04-01", "from"},
		{"/api/v1/reports/utilisation?format=xml", "format"},
		{"/api/v1/reports/forecast?weeks=0", "weeks"},
		{"/api/v1/reports/forecast?weeks=many", "weeks"},
		{"/api/v1/reports/forecast?weeks=27", "weeks"},
		{"/api/v1/reports/outcomes?condition=migraine", "condition"},
		{"/api/v1/reports/outcomes?protocol_id=x", "protocol_id"},
		{"/api/v1/reports/loading?from=2026-01-01", "to"},
	} {
		token := admin
		if strings.Contains(tc.path, "forecast") || strings.Contains(tc.path, "loading") {
			token = desk
		}
		status, _, v := f.api("GET", tc.path, token, nil)
		e, _ := v.(map[string]any)["error"].(map[string]any)
		fields, _ := e["fields"].(map[string]any)
		if status != http.StatusUnprocessableEntity || fields[tc.field] == nil {
			t.Errorf("%s: %d %v; want 422 on %s", tc.path, status, v, tc.field)
		}
	}
	// A bad CSV request is still a JSON error.
	if status, ctype, _ := getCSV(t, f, "/api/v1/reports/forecast?format=csv&weeks=0", desk); status != http.StatusUnprocessableEntity || !strings.HasPrefix(ctype, "application/json") {
		t.Errorf("bad CSV request: %d %s", status, ctype)
	}
}

// The desk's call note on a series: kept, audited, refused when empty or
// for no series.
func TestSeriesCallAPI(t *testing.T) {
	f := newFixture(t)
	desk := f.token(clinic.RoleFrontDesk)
	conn, err := pgx.Connect(context.Background(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var series int64
	if err := conn.QueryRow(context.Background(), `SELECT id FROM loading_series ORDER BY id LIMIT 1`).Scan(&series); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/series/%d/calls", series)
	if status, _, v := f.api("POST", path, desk, map[string]string{"note": " "}); status != http.StatusUnprocessableEntity {
		t.Fatalf("empty note: %d %v", status, v)
	}
	if status, _, v := f.api("POST", path, desk, map[string]any{}); status != http.StatusUnprocessableEntity {
		t.Fatalf("no note: %d %v", status, v)
	}
	if status, _, v := f.api("POST", "/api/v1/series/999999/calls", desk, map[string]string{"note": "Called"}); status != http.StatusNotFound {
		t.Fatalf("no such series: %d %v", status, v)
	}
	if status, _, v := f.api("POST", path, desk, map[string]string{"note": "Reached the patient; will call back to book."}); status != http.StatusNoContent {
		t.Fatalf("note: %d %v", status, v)
	}
	var note string
	var audited int
	if err := conn.QueryRow(context.Background(), `SELECT note, (SELECT count(*) FROM audit_log WHERE action = 'series.call') FROM series_calls WHERE series_id = $1`, series).Scan(&note, &audited); err != nil {
		t.Fatal(err)
	}
	if note != "Reached the patient; will call back to book." || audited != 1 {
		t.Fatalf("stored %q, %d audit rows", note, audited)
	}
}

// A report page refuses a bad filter with the form shown again and a
// message on the field, and downloads the same CSV as the API.
func TestReportPages(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(clinic.RoleAdmin)
	get := func(c *http.Client, path string) (int, string, string) {
		t.Helper()
		resp, err := c.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
	}
	status, _, body := get(admin, "/reports/utilisation?from=2026-05-01&to=2026-04-01")
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="to-error"`) || !strings.Contains(body, `value="2026-04-01"`) {
		t.Fatalf("a refused period: %d\n%s", status, body)
	}
	status, _, body = get(admin, "/reports/forecast?weeks=99")
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="weeks-error"`) {
		t.Fatalf("refused weeks: %d", status)
	}
	status, ctype, body := get(admin, "/reports/forecast?format=csv")
	if status != http.StatusOK || ctype != "text/csv; charset=utf-8" || !strings.HasPrefix(body, "date,week_start,") {
		t.Fatalf("page CSV: %d %s %.80s", status, ctype, body)
	}
	if status, _, _ := get(f.signIn(clinic.RoleFrontDesk), "/reports/utilisation"); status != http.StatusForbidden {
		t.Fatalf("the desk's utilisation: %d", status)
	}
	if status, _, _ := get(admin, "/reports/forecast/2020-01-01"); status != http.StatusNotFound {
		t.Fatalf("a day outside the forecast: %d", status)
	}
}
