package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/infusiondesk/infusiondesk/internal/server"
)

// fixture is a real server over HTTP on loopback, on a real database of its
// own holding the demo clinic.
type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	db    *postgres.DB
	dbURL string
	clin  *demo.Clinic
}

var demoHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(demo.Password)
	if err != nil {
		panic(err)
	}
	return h
})

// testLogger writes to the test's log with -v, else nowhere.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newFixture starts a server; configure may change its configuration.
func newFixture(t *testing.T, configure ...func(*server.Config)) *fixture {
	t.Helper()
	return newLoggedFixture(t, testLogger(t), configure...)
}

// newLoggedFixture is newFixture with the server logging to log.
func newLoggedFixture(t *testing.T, log *slog.Logger, configure ...func(*server.Config)) *fixture {
	t.Helper()
	db, dbURL := pgtest.Open(t)
	c, err := demo.Generate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(context.Background(), db, c, demoHash()); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Throttle.Delay = 5 * time.Millisecond // slowed, but not the tests
	cfg.Throttle.MaxDelay = 20 * time.Millisecond
	for _, f := range configure {
		f(&cfg)
	}
	srv := httptest.NewServer(server.New(db, cfg, log))
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, db: db, dbURL: dbURL, clin: c}
}

// email is the demo account of a role.
func (f *fixture) email(r clinic.Role) string {
	for _, a := range f.clin.Accounts {
		if a.Role == r {
			return a.Email
		}
	}
	f.t.Fatalf("no demo account for %s", r)
	return ""
}

// client is a cookie-keeping client that does not follow redirects.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn returns a client signed in as the role's demo account.
func (f *fixture) signIn(r clinic.Role) *http.Client {
	f.t.Helper()
	c := f.client()
	resp := f.postForm(c, "/login", url.Values{"email": {f.email(r)}, "password": {demo.Password}})
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("sign-in as %s: %d", r, resp.StatusCode)
	}
	return c
}

func (f *fixture) get(c *http.Client, path string) (*http.Response, string) {
	f.t.Helper()
	resp, err := c.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *fixture) postForm(c *http.Client, path string, form url.Values) *http.Response {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// api calls the JSON API and decodes the answer into a map (or a slice).
func (f *fixture) api(method, path, token string, body any) (int, http.Header, any) {
	f.t.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			f.t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	checkAgainstOpenAPI(f.t, method, path, resp.StatusCode, v)
	return resp.StatusCode, resp.Header, v
}

// token signs in through the API as the role's demo account.
func (f *fixture) token(r clinic.Role) string {
	f.t.Helper()
	status, _, v := f.api("POST", "/api/v1/auth/token", "", map[string]string{"email": f.email(r), "password": demo.Password})
	if status != http.StatusOK {
		f.t.Fatalf("token for %s: %d %v", r, status, v)
	}
	return v.(map[string]any)["token"].(string)
}

func decodeBody(resp *http.Response, v any) {
	json.NewDecoder(resp.Body).Decode(v)
}

// testDriver takes a test patient home after an infusion.
var testDriver = clinic.Driver{Name: "Sam Rivera", Phone: "602-555-0142"}

// testArrival checks a test patient in: the test driver and a screen that
// holds nothing (120/80, every answer no).
var testArrival = arrive(testDriver)

// arrive is a check-in with driver d and a screen that holds nothing.
func arrive(d clinic.Driver) clinic.Arrival {
	sys, dia, no := 120, 80, false
	a := clinic.Arrival{Driver: d, Screen: clinic.ScreenInput{Systolic: &sys, Diastolic: &dia}}
	for _, q := range clinic.Questions {
		q.SetAnswer(&a.Screen.Answers, &no)
	}
	return a
}

// screenOK is a check-in screen that holds nothing, for the API: 120/80
// and every answer no.
func screenOK(body map[string]any) map[string]any {
	out := map[string]any{"bp_systolic": 120, "bp_diastolic": 80, "screening": map[string]any{
		"pregnant": false, "psychosis_history": false, "uncontrolled_hypertension": false, "recent_substance_use": false}}
	for k, v := range body {
		out[k] = v
	}
	return out
}

// signConsent signs the clinic's current consent form as the patient (the
// demo clinic has one), so that their infusion visits can be checked in.
func signConsent(t *testing.T, f *fixture, patientID int64) {
	t.Helper()
	ctx := context.Background()
	form, err := f.db.CurrentConsentForm(ctx)
	if err != nil || form == nil {
		t.Fatalf("no consent form to sign (%v)", err)
	}
	p, err := f.db.Patient(ctx, patientID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.SignConsent(ctx, patientID, clinic.SignatureRequest{FormID: form.ID, Version: form.Version, SignedName: p.FullName()},
		postgres.Signing{Lang: p.Language, Via: "portal"}, time.Now()); err != nil {
		t.Fatal(err)
	}
}
