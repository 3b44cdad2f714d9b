package sms

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// gateway is a local server speaking the Twilio Messages API: the one part
// of messaging that cannot be real here.
type gateway struct {
	mu     sync.Mutex
	sent   []url.Values
	status int // answer with this status instead of 201 when not 0
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" {
		http.NotFound(w, r)
		return
	}
	if !ok || user != "AC123" || pass != "secret-token" {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"code": 20003, "message": "Authenticate"})
		return
	}
	r.ParseForm()
	g.mu.Lock()
	defer g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if g.status != 0 {
		w.WriteHeader(g.status)
		json.NewEncoder(w).Encode(map[string]any{"code": 20500, "message": "Internal Server Error"})
		return
	}
	if r.PostForm.Get("To") == "" || r.PostForm.Get("Body") == "" {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"code": 21604, "message": "A 'To' phone number is required."})
		return
	}
	g.sent = append(g.sent, r.PostForm)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"sid": "SM" + string(rune('a'+len(g.sent))), "status": "queued"})
}

func TestSend(t *testing.T) {
	g := &gateway{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	c := NewClient(Config{APIBase: srv.URL + "/", AccountSID: "AC123", AuthToken: "secret-token", From: "+14805550100"})
	ctx := context.Background()
	sid, err := c.Send(ctx, "+16025550142", "Lakeside: reminder: infusion visit Mon Mar 9 at 9:00 AM.")
	if err != nil || sid == "" {
		t.Fatalf("%q %v", sid, err)
	}
	if len(g.sent) != 1 || g.sent[0].Get("To") != "+16025550142" || g.sent[0].Get("From") != "+14805550100" ||
		g.sent[0].Get("Body") != "Lakeside: reminder: infusion visit Mon Mar 9 at 9:00 AM." {
		t.Fatalf("the gateway got %v", g.sent)
	}
	// A 5xx is temporary (retry later); a 4xx is not; a wrong token is a 401.
	g.status = http.StatusServiceUnavailable
	var e *Error
	if _, err := c.Send(ctx, "+16025550142", "x"); !errors.As(err, &e) || !e.Temporary || e.Status != 503 {
		t.Fatalf("503: %v", err)
	}
	g.status = 0
	if _, err := c.Send(ctx, "", "x"); !errors.As(err, &e) || e.Temporary || e.Code != 21604 {
		t.Fatalf("400: %v", err)
	}
	bad := NewClient(Config{APIBase: srv.URL, AccountSID: "AC123", AuthToken: "wrong", From: "+14805550100"})
	if _, err := bad.Send(ctx, "+16025550142", "x"); !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("401: %v", err)
	}
	// The gateway unreachable: an error, nothing pretended.
	srv.Close()
	if _, err := c.Send(ctx, "+16025550142", "x"); err == nil {
		t.Fatal("a send to a gateway that is down succeeded")
	}
}

func TestSignature(t *testing.T) {
	params := url.Values{"From": {"+16025550142"}, "To": {"+14805550100"}, "Body": {"STOP"}, "MessageSid": {"SM123"}}
	const u = "https://clinic.example/sms/inbound"
	// Worked out independently (HMAC-SHA1 of the URL and the sorted pairs).
	if got := Signature("test-token", u, params); got != "HRIzuHX0Og3bRmRGV4tX8BxUe/E=" {
		t.Fatalf("signature %q", got)
	}
	if !Verify("test-token", "HRIzuHX0Og3bRmRGV4tX8BxUe/E=", u, params) {
		t.Fatal("a good signature refused")
	}
	params.Set("Body", "START")
	if Verify("test-token", "HRIzuHX0Og3bRmRGV4tX8BxUe/E=", u, params) {
		t.Fatal("a tampered body accepted")
	}
}

func TestParseReply(t *testing.T) {
	for body, want := range map[string]Reply{
		"STOP": ReplyStop, " stop ": ReplyStop, "Unsubscribe": ReplyStop, "start": ReplyStart,
		"C": ReplyConfirm, "confirm.": ReplyConfirm, "c!": ReplyConfirm, "see you then": ReplyOther, "": ReplyOther,
	} {
		if got := ParseReply(body); got != want {
			t.Errorf("%q: %q; want %q", body, got, want)
		}
	}
}
