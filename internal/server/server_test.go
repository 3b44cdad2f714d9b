package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/infusiondesk/infusiondesk/internal/server"
	"github.com/jackc/pgx/v5"
)

// pages lists every page and the one role allowed on it.
var pages = map[string]clinic.Role{
	"/admin":               clinic.RoleAdmin,
	"/admin/users":         clinic.RoleAdmin,
	"/admin/audit":         clinic.RoleAdmin,
	"/admin/clinic":        clinic.RoleAdmin,
	"/admin/chairs":        clinic.RoleAdmin,
	"/admin/protocols":     clinic.RoleAdmin,
	"/admin/protocols/new": clinic.RoleAdmin,
	"/desk":                clinic.RoleFrontDesk,
	"/desk/calendar":       clinic.RoleFrontDesk,
	"/desk/week":           clinic.RoleFrontDesk,
	"/desk/misfits":        clinic.RoleFrontDesk,
	"/desk/book":           clinic.RoleFrontDesk,
	"/desk/patients":       clinic.RoleFrontDesk,
	"/desk/patients/new":   clinic.RoleFrontDesk,
	"/nurse":               clinic.RoleNurse,
	"/physician":           clinic.RolePhysician,
	"/portal":              clinic.RolePatient,
}

func TestEveryPageChecksTheRole(t *testing.T) {
	f := newFixture(t)
	anon := f.client()
	for path := range pages {
		resp, _ := f.get(anon, path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape(path) {
			t.Errorf("signed out %s: %d → %s; want 303 to the sign-in page", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, role := range clinic.Roles {
		c := f.signIn(role)
		for path, allowed := range pages {
			resp, body := f.get(c, path)
			want := http.StatusForbidden
			if allowed == role {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Errorf("%s as %s: %d; want %d", path, role, resp.StatusCode, want)
			}
			if want == http.StatusForbidden && strings.Contains(body, "MRN1") {
				t.Errorf("%s refused to %s but shows patient data", path, role)
			}
		}
		resp, _ := f.get(c, "/")
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/") || pages[loc] != role {
			t.Errorf("/ as %s → %d %s; want the role's home", role, resp.StatusCode, loc)
		}
	}
}

func TestSecurityHeadersAndCookie(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	resp := f.postForm(c, "/login", url.Values{"email": {f.email(clinic.RoleNurse)}, "password": {demo.Password}})
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"infusiondesk=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	for _, path := range []string{"/login", "/nurse", "/nowhere", "/api/v1/me"} {
		resp, _ := f.get(c, path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline code: %s", path, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q; want %q", path, k, h.Get(k), v)
			}
		}
		if h.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID", path)
		}
	}
	// Static assets with the current fingerprint are cached for good.
	resp, _ = f.get(c, "/static/app.css?v="+fingerprint(t, f, "app.css"))
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("static asset: %d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}
	if resp, _ := f.get(c, "/static/vendor/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("directory listing: %d", resp.StatusCode)
	}
}

// fingerprint reads an asset's fingerprinted URL off the sign-in page.
func fingerprint(t *testing.T, f *fixture, name string) string {
	_, body := f.get(f.client(), "/login")
	i := strings.Index(body, "/static/"+name+"?v=")
	if i < 0 {
		t.Fatalf("%s not linked from the sign-in page", name)
	}
	rest := body[i+len("/static/"+name+"?v="):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestSecureCookieBehindTLS(t *testing.T) {
	db, _ := pgtest.Open(t)
	c, _ := demo.Generate(time.Now())
	demo.Load(context.Background(), db, c, demoHash())
	cfg := server.DefaultConfig()
	cfg.SecureCookies = true
	srv := httptest.NewTLSServer(server.New(db, cfg, testLogger(t)))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(srv.URL+"/login", url.Values{"email": {"desk@" + demo.Domain}, "password": {demo.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "__Host-infusiondesk=") || !strings.Contains(cookie, "Secure") {
		t.Fatalf("cookie behind TLS: %q; want __Host- prefixed and Secure", cookie)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS behind TLS")
	}
}

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(clinic.RoleAdmin)
	form := url.Values{"email": {"mallory@example.com"}, "name": {"Mallory"}, "role": {"admin"}, "password": {"a long enough password"}}
	for name, h := range map[string]map[string]string{
		"fetch metadata": {"Sec-Fetch-Site": "cross-site"},
		"origin header":  {"Origin": "https://evil.example"},
	} {
		req, _ := http.NewRequest("POST", f.srv.URL+"/admin/users", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := admin.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: cross-site POST answered %d; want 403", name, resp.StatusCode)
		}
	}
	if _, _, err := f.db.UserCredentials(context.Background(), "mallory@example.com"); clinic.ErrorCode(err) != clinic.ENOTFOUND {
		t.Fatal("a cross-site request created a user")
	}
	// The same request from the site itself works.
	req, _ := http.NewRequest("POST", f.srv.URL+"/admin/users", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST answered %d", resp.StatusCode)
	}
}

func TestSignInIsThrottled(t *testing.T) {
	f := newFixture(t)
	nurse := f.email(clinic.RoleNurse)
	try := func(email, password string) (int, string) {
		resp, body := f.postFormBody(f.client(), "/login", url.Values{"email": {email}, "password": {password}})
		return resp.StatusCode, body
	}
	// Unknown email and wrong password: the same answer.
	_, wrong := try(nurse, "not the password")
	_, unknown := try("nobody@"+demo.Domain, "not the password")
	if extractError(wrong) != extractError(unknown) || extractError(wrong) == "" {
		t.Fatalf("wrong password says %q, unknown email %q", extractError(wrong), extractError(unknown))
	}
	for range 4 {
		try(nurse, "not the password")
	}
	// Five failures from this address for the account: refused, even with
	// the right password, and told when to come back.
	resp, body := f.postFormBody(f.client(), "/login", url.Values{"email": {nurse}, "password": {demo.Password}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("after 5 failures: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The API is throttled too.
	status, h, _ := f.api("POST", "/api/v1/auth/token", "", map[string]string{"email": nurse, "password": demo.Password})
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("API after 5 failures: %d", status)
	}
	// Other accounts are not locked out by this one's failures.
	if c := f.signIn(clinic.RolePhysician); c == nil {
		t.Fatal("another account was locked out")
	}
	// Failures, the refusal and the sign-in are all audited.
	counts := auditCounts(t, f)
	if counts["auth.sign_in_failed"] != 6 || counts["auth.sign_in_refused"] != 2 || counts["auth.sign_in"] < 1 {
		t.Fatalf("audit: %v", counts)
	}
}

func (f *fixture) postFormBody(c *http.Client, path string, form url.Values) (*http.Response, string) {
	f.t.Helper()
	resp, err := c.PostForm(f.srv.URL+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b := new(strings.Builder)
	_, _ = fmt.Fprint(b, readAll(resp))
	return resp, b.String()
}

func readAll(resp *http.Response) string {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

func extractError(body string) string {
	i := strings.Index(body, `id="login-error">`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(`id="login-error">`):]
	return rest[:strings.Index(rest, "<")]
}

func auditCounts(t *testing.T, f *fixture) map[string]int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(context.Background(), `SELECT action, count(*) FROM audit_log GROUP BY action`)
	counts := map[string]int{}
	for rows.Next() {
		var a string
		var n int
		rows.Scan(&a, &n)
		counts[a] = n
	}
	return counts
}

func TestStaffSessionsEndWhenIdleOrDisabled(t *testing.T) {
	f := newFixture(t)
	desk := f.signIn(clinic.RoleFrontDesk)
	if resp, _ := f.get(desk, "/desk"); resp.StatusCode != 200 {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	conn, _ := pgx.Connect(context.Background(), f.dbURL)
	defer conn.Close(context.Background())
	conn.Exec(context.Background(), `UPDATE sessions SET last_seen_at = now() - interval '16 minutes'`)
	if resp, _ := f.get(desk, "/desk"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after 16 idle minutes: %d; want a redirect to sign in", resp.StatusCode)
	}

	// The admin disables the nurse: the nurse's session ends at once.
	nurse := f.signIn(clinic.RoleNurse)
	admin := f.signIn(clinic.RoleAdmin)
	u, _, _ := f.db.UserCredentials(context.Background(), f.email(clinic.RoleNurse))
	resp := f.postForm(admin, fmt.Sprintf("/admin/users/%d/disable", u.ID), url.Values{"version": {fmt.Sprint(u.Version)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if resp, _ := f.get(nurse, "/nurse"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disabled nurse still in: %d", resp.StatusCode)
	}
	// A second click on the stale form: "changed by someone else".
	resp, body := f.postFormBody(admin, fmt.Sprintf("/admin/users/%d/disable", u.ID), url.Values{"version": {fmt.Sprint(u.Version)}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "changed by someone else") {
		t.Fatalf("stale disable: %d", resp.StatusCode)
	}
	// A disabled account cannot sign in; the message gives nothing away.
	resp, body = f.postFormBody(f.client(), "/login", url.Values{"email": {f.email(clinic.RoleNurse)}, "password": {demo.Password}})
	if resp.StatusCode != http.StatusUnauthorized || extractError(body) != "The email or password is not correct." {
		t.Fatalf("disabled sign-in: %d %q", resp.StatusCode, extractError(body))
	}
}

func TestAdminAddsUserWithMessagesPerField(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(clinic.RoleAdmin)
	resp, body := f.postFormBody(admin, "/admin/users", url.Values{"email": {"not-an-email"}, "name": {"Kim <b>Lee</b>"}, "role": {"janitor"}, "password": {"short"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad input: %d", resp.StatusCode)
	}
	for _, want := range []string{`id="email-error"`, `id="role-error"`, `id="password-error"`, `value="not-an-email"`, `Kim &lt;b&gt;Lee&lt;/b&gt;`} {
		if !strings.Contains(body, want) {
			t.Errorf("re-rendered form lacks %s", want)
		}
	}
	if strings.Contains(body, "<b>Lee</b>") {
		t.Error("the name was not escaped")
	}
	resp, body = f.postFormBody(admin, "/admin/users", url.Values{"email": {f.email(clinic.RoleNurse)}, "name": {"Dup"}, "role": {"nurse"}, "password": {"a long enough password"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "already exists") {
		t.Fatalf("duplicate email: %d", resp.StatusCode)
	}
	resp = f.postForm(admin, "/admin/users", url.Values{"email": {"New.Nurse@Example.com"}, "name": {"New Nurse"}, "role": {"nurse"}, "password": {"a long enough password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid user: %d", resp.StatusCode)
	}
	if resp := f.postForm(f.client(), "/login", url.Values{"email": {"new.nurse@example.com"}, "password": {"a long enough password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the new user cannot sign in: %d", resp.StatusCode)
	}
}

func TestAdminAuditPageAndSeal(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(clinic.RoleAdmin)
	resp, body := f.get(admin, "/admin/audit")
	if resp.StatusCode != 200 || !strings.Contains(body, "nothing sealed yet") || !strings.Contains(body, "auth.sign_in") {
		t.Fatalf("audit page before sealing: %d %s", resp.StatusCode, body)
	}
	if err := f.db.NewSealer("", nil).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, body = f.get(admin, "/admin/audit")
	if resp.StatusCode != 200 || !strings.Contains(body, "Audit log sealed") || !strings.Contains(body, "set AUDIT_SIGNING_KEY to keep the key outside the database") {
		t.Fatalf("audit page after sealing: %d %s", resp.StatusCode, body)
	}
	resp, body = f.get(admin, "/admin/audit?verify=1")
	if resp.StatusCode != 200 || !strings.Contains(body, "Verified: all") {
		t.Fatalf("verifying from the audit page: %d %s", resp.StatusCode, body)
	}
	resp, body = f.get(admin, "/admin")
	if resp.StatusCode != 200 || !strings.Contains(body, "Audit log sealed") || !strings.Contains(body, "AUDIT_SIGNING_KEY") {
		t.Fatalf("admin overview: %d", resp.StatusCode)
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	// No token: 401 on every protected route.
	for _, op := range [][2]string{{"GET", "/api/v1/me"}, {"GET", "/api/v1/users"}, {"DELETE", "/api/v1/auth/token"}} {
		if status, _, v := f.api(op[0], op[1], "", nil); status != http.StatusUnauthorized || apiCode(v) != "unauthorized" {
			t.Errorf("%s %s without a token: %d %v", op[0], op[1], status, v)
		}
		if status, _, _ := f.api(op[0], op[1], "made-up-token", nil); status != http.StatusUnauthorized {
			t.Errorf("%s %s with a bad token: %d", op[0], op[1], status)
		}
	}
	// Bad input.
	for name, tc := range map[string]struct {
		body   any
		status int
		field  string
	}{
		"not JSON":      {"{email:", http.StatusBadRequest, ""},
		"empty":         {"", http.StatusBadRequest, ""},
		"missing":       {map[string]string{}, http.StatusUnprocessableEntity, "email"},
		"wrong type":    {`{"email": 5, "password": "x"}`, http.StatusUnprocessableEntity, "email"},
		"wrong":         {map[string]string{"email": f.email(clinic.RoleAdmin), "password": "nope"}, http.StatusUnauthorized, ""},
		"extra ignored": {map[string]any{"email": f.email(clinic.RoleAdmin), "password": demo.Password, "role": "admin", "is_root": true}, http.StatusOK, ""},
	} {
		status, _, v := f.api("POST", "/api/v1/auth/token", "", tc.body)
		if status != tc.status {
			t.Errorf("%s: %d %v; want %d", name, status, v, tc.status)
		}
		if tc.field != "" {
			if fields, _ := v.(map[string]any)["error"].(map[string]any)["fields"].(map[string]any); fields[tc.field] == nil {
				t.Errorf("%s: no message for %s: %v", name, tc.field, v)
			}
		}
	}
	// Each role: its token, /me, and /users only for the admin.
	for _, role := range clinic.Roles {
		tok := f.token(role)
		status, _, v := f.api("GET", "/api/v1/me", tok, nil)
		me, _ := v.(map[string]any)
		if status != 200 || me["role"] != string(role) || me["email"] != f.email(role) {
			t.Errorf("me as %s: %d %v", role, status, v)
		}
		status, _, v = f.api("GET", "/api/v1/users", tok, nil)
		want := http.StatusForbidden
		if role == clinic.RoleAdmin {
			want = http.StatusOK
		}
		if status != want {
			t.Errorf("users as %s: %d; want %d", role, status, want)
		}
		if want == http.StatusForbidden && apiCode(v) != "forbidden" {
			t.Errorf("users as %s: %v", role, v)
		}
		// A web cookie is not a bearer token and vice versa.
		req, _ := http.NewRequest("GET", f.srv.URL+"/desk", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, _ := f.client().Do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("a bearer token opened a page: %d", resp.StatusCode)
		}
		// Revoking ends the token.
		if status, _, _ := f.api("DELETE", "/api/v1/auth/token", tok, nil); status != http.StatusNoContent {
			t.Errorf("revoke: %d", status)
		}
		if status, _, _ := f.api("GET", "/api/v1/me", tok, nil); status != http.StatusUnauthorized {
			t.Errorf("revoked token still works: %d", status)
		}
	}
	// Unknown API routes answer JSON.
	if status, _, v := f.apiRaw("GET", "/api/v1/nothing-here"); status != http.StatusNotFound || apiCode(v) != "not_found" {
		t.Errorf("unknown route: %d %v", status, v)
	}
	// The document is served.
	if status, _, v := f.api("GET", "/api/v1/openapi.json", "", nil); status != 200 || v.(map[string]any)["openapi"] == nil {
		t.Errorf("openapi.json: %d", status)
	}
	// An oversized body is refused, not read.
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `","password":"x"}`
	if status, _, v := f.api("POST", "/api/v1/auth/token", "", big); status != http.StatusRequestEntityTooLarge || apiCode(v) != "invalid" {
		t.Errorf("2 MiB body: %d %v", status, v)
	}
}

// apiRaw calls a route that openapi.json rightly does not document.
func (f *fixture) apiRaw(method, path string) (int, http.Header, any) {
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	decodeBody(resp, &v)
	return resp.StatusCode, resp.Header, v
}

func apiCode(v any) string {
	m, _ := v.(map[string]any)
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestHealth(t *testing.T) {
	f := newFixture(t)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		if resp, _ := f.get(f.client(), path); resp.StatusCode != want {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	// Ready names the database node it reached: in a formation, the primary.
	if resp, body := f.get(f.client(), "/readyz"); !strings.Contains(body, `"database":"127.0.0.1:`) {
		t.Errorf("/readyz does not name the database node: %d %s", resp.StatusCode, body)
	}
	// A server whose database is down is alive but not ready, and its pages
	// fail cleanly: 503 with a request id, no internals.
	db, err := postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	down := httptest.NewServer(server.New(db, server.DefaultConfig(), testLogger(t)))
	defer down.Close()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "POST /login": 503} {
		var resp *http.Response
		var err error
		if p, ok := strings.CutPrefix(path, "POST "); ok {
			resp, err = http.PostForm(down.URL+p, url.Values{"email": {"a@b.co"}, "password": {"x"}})
		} else {
			resp, err = http.Get(down.URL + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("database down, %s: %d; want %d", path, resp.StatusCode, want)
		}
		if strings.Contains(body, "127.0.0.1:1") || strings.Contains(body, "dial") {
			t.Errorf("database down, %s leaks internals: %s", path, body)
		}
		if path == "POST /login" && !strings.Contains(body, resp.Header.Get("X-Request-ID")) {
			t.Errorf("the error page does not show the request id")
		}
	}
}
