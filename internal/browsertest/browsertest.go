// Package browsertest drives a real headless Chromium (Debian's) with
// chromedp for the tests of page flows. A missing Chromium fails the test:
// browser tests never skip. Every tab fails its test on a console error —
// which is how a Content-Security-Policy violation shows itself.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser is one Chromium process.
type Browser struct {
	ctx context.Context
}

// chromiumPath finds the browser: CHROME_PATH, else the usual names.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found: install it (apt-get install -y chromium, or run .ci/run) or set CHROME_PATH")
}

// Start launches a headless Chromium for the test, closed when it ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// Start the browser now, so that a broken install fails here, clearly.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return &Browser{ctx: ctx}
}

// Tab is a tab in a browser context of its own (its own cookies), as if a
// different person used a different computer.
type Tab struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// Tab opens an isolated tab, closed when the test ends.
func (b *Browser) Tab(t testing.TB) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	tab := &Tab{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if problem(m) {
				tab.mu.Lock()
				tab.problems = append(tab.problems, string(m.Type)+": "+m.Text)
				tab.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		for _, p := range tab.Problems() {
			t.Errorf("browser console: %s", p)
		}
	})
	return tab
}

// problem reports whether a console message means the page is broken. A
// page or form answered with a 4xx is the server doing its job (tests check
// those statuses themselves); a static asset that fails to load, a Content-
// Security-Policy violation or an exception is a broken page.
func problem(m chromedp.ConsoleMessage) bool {
	if m.Type != "error" && m.Type != chromedp.ConsoleException {
		return false
	}
	if m.Source == "network" && !strings.Contains(m.URL, "/static/") {
		return false
	}
	return true
}

// Problems returns the console errors seen so far.
func (tab *Tab) Problems() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.problems...)
}

// TakeProblems returns the console errors seen so far and forgets them, for
// a test that expects some.
func (tab *Tab) TakeProblems() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	p := tab.problems
	tab.problems = nil
	return p
}

// timeout bounds every step: a hung page fails the test instead of CI.
const timeout = 15 * time.Second

// Do runs the steps, failing the test on error.
func (tab *Tab) Do(steps ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tab.t.Fatalf("browser: %v", err)
	}
}

// Run runs one action that returns a value.
func Run[T any](tab *Tab, a chromedp.Action[T]) T {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tab.t.Fatalf("browser: %v", err)
	}
	return v
}

// Open navigates to url and returns the HTTP status of the page.
func (tab *Tab) Open(url string) int64 {
	tab.t.Helper()
	resp := Run(tab, chromedp.NavigateResponse(url))
	return responseStatus(resp)
}

func responseStatus(r *network.Response) int64 {
	if r == nil {
		return 0
	}
	return r.Status
}

// Text is the visible text of the first element matching the CSS selector.
func (tab *Tab) Text(css string) string {
	tab.t.Helper()
	return strings.TrimSpace(Run(tab, chromedp.Text(chromedp.CSS(css))))
}

// Path is the path of the current page's URL.
func (tab *Tab) Path() string {
	tab.t.Helper()
	loc := Run(tab, chromedp.Location())
	if i := strings.Index(loc, "://"); i >= 0 {
		loc = loc[i+3:]
		if j := strings.Index(loc, "/"); j >= 0 {
			return loc[j:]
		}
		return "/"
	}
	return loc
}

// Submit types into the fields (CSS selector → text), clicks the CSS
// selector submit, and waits until the next page has loaded — so that
// what follows never reads the page that was left.
func (tab *Tab) Submit(fields map[string]string, submit string) {
	tab.t.Helper()
	Run(tab, chromedp.Evaluate[bool](`window.__leaving = true`))
	var steps []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		steps = append(steps, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), v))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(submit)))
	tab.Do(steps...)
	tab.WaitNewPage()
}

// WaitNewPage waits until the document marked by Submit has been replaced
// and the new one has loaded.
func (tab *Tab) WaitNewPage() {
	tab.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		// An evaluation during the navigation itself fails; that is
		// expected, so errors only mean "not yet".
		ctx, cancel := context.WithTimeout(tab.ctx, time.Second)
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__leaving === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			tab.t.Fatalf("browser: no new page after %v (last error: %v)", timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Screenshot saves a PNG of the whole page, for looking at a page by hand.
func (tab *Tab) Screenshot(path string) {
	tab.t.Helper()
	b := Run(tab, chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tab.t.Fatal(err)
	}
}
