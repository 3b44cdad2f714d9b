package mail

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// inbox is a real SMTP server on loopback (go-smtp) keeping what it gets.
type inbox struct {
	mu   sync.Mutex
	msgs [][]byte
	rcpt []string
}

type session struct{ in *inbox }

func (s session) Reset()        {}
func (s session) Logout() error { return nil }
func (s session) Mail(string, *smtp.MailOptions) error {
	return nil
}
func (s session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.rcpt = append(s.in.rcpt, to)
	return nil
}
func (s session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.msgs = append(s.in.msgs, b)
	return err
}

// startInbox serves SMTP on addr ("127.0.0.1:0" for any port).
func startInbox(t *testing.T, addr string) (*inbox, *smtp.Server, string) {
	t.Helper()
	in := &inbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return session{in}, nil }))
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return in, srv, l.Addr().String()
}

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
	in, srv, addr := startInbox(t, "127.0.0.1:0")
	host, port, _ := net.SplitHostPort(addr)
	cfg, err := ParseURL("smtp://"+host+":"+port+"?tls=none", "Lakeside Infusion <desk@lakeside.example>")
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
	in.mu.Lock()
	if len(in.msgs) != 1 || in.rcpt[0] != "pat@example.com" {
		t.Fatalf("%d messages to %v", len(in.msgs), in.rcpt)
	}
	raw := in.msgs[0]
	in.mu.Unlock()
	parsed, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if id := parsed.Header.Get("Message-Id"); id != "<appointment-7.confirmation@lakeside.example>" {
		t.Errorf("Message-ID %q", id)
	}
	dec := new(mime.WordDecoder)
	if subj, _ := dec.DecodeHeader(parsed.Header.Get("Subject")); subj != m.Subject {
		t.Errorf("subject %q", subj)
	}
	mt, params, _ := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if mt != "multipart/alternative" {
		t.Fatalf("content type %q", mt)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(parsed.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p) // multipart decodes quoted-printable
		parts[ct] = string(b)
	}
	if !strings.Contains(parts["text/plain"], "Arrange a driver.") || !strings.Contains(parts["text/html"], "<p>Arrange a driver.</p>") {
		t.Fatalf("parts %v", parts)
	}

	// The server goes away: the send fails, and nothing is pretended.
	srv.Close()
	if err := s.Send(ctx, m); err == nil {
		t.Fatal("a send to a server that is down succeeded")
	}
	// Back on the same port: the same message goes out.
	in2, _, _ := startInbox(t, addr)
	if err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	in2.mu.Lock()
	defer in2.mu.Unlock()
	if len(in2.msgs) != 1 || !strings.Contains(string(in2.msgs[0]), "appointment-7.confirmation@lakeside.example") {
		t.Fatal("the retried message did not arrive as the same message")
	}
}
