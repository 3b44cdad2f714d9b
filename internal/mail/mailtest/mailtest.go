// Package mailtest is a real SMTP server on loopback (emersion/go-smtp) for
// tests: it keeps every message it is handed, parsed into its parts, and
// can go down and come back on the same port.
package mailtest

import (
	"bytes"
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

// Received is one message as the server got it.
type Received struct {
	To        []string
	MessageID string // without the angle brackets
	Subject   string
	Text      string
	HTML      string
	Raw       []byte
}

// Inbox is a running SMTP server and what it received.
type Inbox struct {
	mu   sync.Mutex
	msgs []Received
	srv  *smtp.Server
	l    net.Listener
	Addr string // host:port
}

// Start serves SMTP on addr ("127.0.0.1:0" for any free port) until the
// test ends or Close.
func Start(t testing.TB, addr string) *Inbox {
	t.Helper()
	in := &Inbox{}
	in.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{in: in}, nil }))
	in.srv.Domain = "localhost"
	in.srv.AllowInsecureAuth = true
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // a port just closed may take a moment to be free
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	in.Addr, in.l = l.Addr().String(), l
	go in.srv.Serve(l)
	t.Cleanup(in.Close)
	return in
}

// URL is the server as SMTP_URL names it.
func (in *Inbox) URL() string { return "smtp://" + in.Addr + "?tls=none" }

// Close takes the server down; what it received stays readable.
func (in *Inbox) Close() {
	in.l.Close() // Serve may not have taken the listener yet
	in.srv.Close()
}

// Messages returns what arrived so far, in order.
func (in *Inbox) Messages() []Received {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Received(nil), in.msgs...)
}

// Wait waits until at least n messages arrived, failing the test after
// timeout, and returns them.
func (in *Inbox) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ms := in.Messages()
		if len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: %d messages arrived within %s, want %d", len(ms), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type session struct {
	in *Inbox
	to []string
}

func (s *session) Reset()                               { s.to = nil }
func (s *session) Logout() error                        { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parse(raw)
	m.To = s.to
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.msgs = append(s.in.msgs, m)
	return nil
}

// parse reads the headers and the text and HTML parts.
func parse(raw []byte) Received {
	m := Received{Raw: raw}
	parsed, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m
	}
	m.MessageID = strings.Trim(parsed.Header.Get("Message-Id"), "<>")
	m.Subject, _ = new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	mt, params, _ := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(parsed.Body)
		m.Text = string(b)
		return m
	}
	mr := multipart.NewReader(parsed.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p) // multipart decodes quoted-printable
		switch ct {
		case "text/plain":
			m.Text = string(b)
		case "text/html":
			m.HTML = string(b)
		}
	}
	return m
}
