package browsertest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The harness must catch what breaks a page: an inline script refused by
// the Content-Security-Policy and a static asset that does not load.
func TestTabReportsBrokenPages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/broken":
			w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'")
			w.Write([]byte(`<!doctype html><title>x</title><script>document.title = "ran"</script>` +
				`<script src="/static/missing.js"></script><p id="p">page</p>`))
		case "/refused":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<!doctype html><title>no</title><p id="p">refused</p>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tab := Start(t).Tab(t)

	if status := tab.Open(srv.URL + "/refused"); status != http.StatusForbidden {
		t.Fatalf("status %d", status)
	}
	tab.Do(chromedp.WaitVisible(chromedp.CSS("#p")))
	if p := tab.Problems(); len(p) != 0 {
		t.Fatalf("a 403 page counted as broken: %v", p)
	}

	tab.Open(srv.URL + "/broken")
	tab.Do(chromedp.WaitVisible(chromedp.CSS("#p")))
	if title := Run(tab, chromedp.Title()); title == "ran" {
		t.Fatal("the inline script ran despite the CSP")
	}
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && len(got) < 2; time.Sleep(50 * time.Millisecond) {
		got = tab.Problems()
	}
	got = tab.TakeProblems()
	joined := strings.Join(got, "\n")
	if !strings.Contains(joined, "Content Security Policy") || !strings.Contains(joined, "missing.js") {
		t.Fatalf("problems reported:\n%s\nwant a CSP violation and the missing script", joined)
	}
}

// axe-core runs in the page, under the pages' strict Content-Security-
// Policy, and reports what WCAG 2.1 AA forbids: an image with no text, a
// field with no label, text too faint to read. A clean page passes.
func TestAxeFindsViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src data:")
		if r.URL.Path == "/clean" {
			w.Write([]byte(`<!doctype html><html lang="en"><title>clean</title><main><h1>Fine</h1><label for="a">Name</label><input id="a"></main></html>`))
			return
		}
		w.Write([]byte(`<!doctype html><html lang="en"><title>bad</title><main><h1>Bad</h1>` +
			`<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input id="b">` +
			`<p style="color:#ddd;background:#fff">faint</p></main></html>`))
	}))
	defer srv.Close()
	tab := Start(t).Tab(t)
	tab.Open(srv.URL + "/clean")
	if v := tab.Axe(); len(v) != 0 {
		t.Errorf("a clean page: %v", v)
	}
	tab.Open(srv.URL + "/bad")
	got := strings.Join(tab.Axe(), "\n")
	for _, rule := range []string{"image-alt", "label", "color-contrast"} {
		if !strings.Contains(got, rule+" (") {
			t.Errorf("axe missed %s:\n%s", rule, got)
		}
	}
}
