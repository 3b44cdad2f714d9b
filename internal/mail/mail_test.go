package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/mail/mailtest"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw       string
		want      Config
		wantError bool
	}{
		{"smtp://127.0.0.1:1025?tls=none", Config{Host: "127.0.0.1", Port: 1025, TLS: "none", From: "desk@x.example"}, false},
		{"smtp://user:secret@mail.example", Config{Host: "mail.example", Port: 587, TLS: "starttls", Username: "user", Password: "secret", From: "desk@x.example"}, false},
		{"smtp://mail.example?tls=implicit", Config{Host: "mail.example", Port: 465, TLS: "implicit", From: "desk@x.example"}, false},
		{"smtp://mail.example?tls=maybe", Config{}, true},
		{"http://mail.example", Config{}, true},
		{"smtp://mail.example:99999", Config{}, true},
	} {
		got, err := ParseURL(tc.raw, "desk@x.example")
		if (err != nil) != tc.wantError || got != tc.want {
			t.Errorf("%s: %+v %v", tc.raw, got, err)
		}
	}
	if _, err := ParseURL("smtp://user:secret@%zz", "x@y.example"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a bad URL's error shows the password: %v", err)
	}
}

// A message reaches a real SMTP server with a text and an HTML part and
// the Message-ID it was given; with the server down the send fails, and
// once it is back the same message goes through.
func TestSendToARealSMTPServer(t *testing.T) {
	in := mailtest.Start(t, "127.0.0.1:0")
	cfg, err := ParseURL(in.URL(), "Lakeside Infusion <desk@lakeside.example>")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSender(cfg)
	m := Message{To: "pat@example.com", Subject: "Your infusion visit on Monday, March 9, 2026 at 9:00 AM — Lakeside",
		Text: "You are booked.\n\nArrange a driver.", HTML: "<p>You are booked.</p><p>Arrange a driver.</p>",
		MessageID: "appointment-7.confirmation@lakeside.example", Date: time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	if err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	got := in.Messages()
	if len(got) != 1 || got[0].To[0] != "pat@example.com" {
		t.Fatalf("%d messages: %+v", len(got), got)
	}
	if got[0].MessageID != "appointment-7.confirmation@lakeside.example" {
		t.Errorf("Message-ID %q", got[0].MessageID)
	}
	if got[0].Subject != m.Subject {
		t.Errorf("subject %q", got[0].Subject)
	}
	if !strings.Contains(string(got[0].Raw), "multipart/alternative") {
		t.Errorf("not multipart/alternative:\n%s", got[0].Raw)
	}
	if !strings.Contains(got[0].Text, "Arrange a driver.") || !strings.Contains(got[0].HTML, "<p>Arrange a driver.</p>") {
		t.Fatalf("parts: %q %q", got[0].Text, got[0].HTML)
	}

	// The server goes away: the send fails, and nothing is pretended.
	in.Close()
	if err := s.Send(ctx, m); err == nil {
		t.Fatal("a send to a server that is down succeeded")
	}
	// Back on the same port: the same message goes out.
	in2 := mailtest.Start(t, in.Addr)
	if err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := in2.Messages(); len(got) != 1 || got[0].MessageID != "appointment-7.confirmation@lakeside.example" {
		t.Fatal("the retried message did not arrive as the same message")
	}
}
