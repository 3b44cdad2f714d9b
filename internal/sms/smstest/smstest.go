// Package smstest is a local HTTP server speaking the Twilio Messages API
// (POST /2010-04-01/Accounts/{sid}/Messages.json, form fields To, From,
// Body, basic auth sid:token): the one part of messaging that cannot be
// real in tests, since no gateway is reachable from here.
package smstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/sms"
)

// The account the gateway accepts.
const (
	AccountSID = "AC0123456789abcdef"
	AuthToken  = "test-auth-token"
	From       = "+16025550100"
)

// Gateway is the running server and what it was sent.
type Gateway struct {
	mu     sync.Mutex
	sent   []url.Values
	status int
	srv    *httptest.Server
}

// Start runs a gateway until the test ends.
func Start(t testing.TB) *Gateway {
	g := &Gateway{}
	g.srv = httptest.NewServer(g)
	t.Cleanup(g.srv.Close)
	return g
}

// Config is a client configuration for this gateway.
func (g *Gateway) Config() sms.Config {
	return sms.Config{APIBase: g.srv.URL, AccountSID: AccountSID, AuthToken: AuthToken, From: From}
}

// FailWith makes the gateway answer every send with status (e.g. 503);
// 0 makes it accept again.
func (g *Gateway) FailWith(status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status = status
}

// Sent returns the accepted messages' forms, in order.
func (g *Gateway) Sent() []url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]url.Values(nil), g.sent...)
}

// Wait waits until at least n messages were accepted.
func (g *Gateway) Wait(t testing.TB, n int, timeout time.Duration) []url.Values {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := g.Sent()
		if len(s) >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("smstest: %d texts within %s, want %d", len(s), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	answer := func(status, code int, msg string) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "status": status})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+AccountSID+"/Messages.json" {
		answer(http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != AccountSID || pass != AuthToken {
		answer(http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if err := r.ParseForm(); err != nil {
		answer(http.StatusBadRequest, 20001, "Bad form")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.status != 0:
		answer(g.status, 20500, "Service unavailable")
	case r.PostForm.Get("To") == "":
		answer(http.StatusBadRequest, 21604, "A 'To' phone number is required.")
	case r.PostForm.Get("Body") == "":
		answer(http.StatusBadRequest, 21602, "Message body is required.")
	case len([]rune(r.PostForm.Get("Body"))) > 1600:
		answer(http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
	default:
		g.sent = append(g.sent, r.PostForm)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("SM%032d", len(g.sent)), "status": "queued",
			"to": r.PostForm.Get("To"), "from": r.PostForm.Get("From"), "body": r.PostForm.Get("Body")})
	}
}
