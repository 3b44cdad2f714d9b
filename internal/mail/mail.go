// Package mail sends the clinic's email over SMTP with go-mail (a
// maintained library: MIME, encodings and SMTP are not written by hand
// here). It knows nothing of appointments: it takes a finished message.
package mail

import (
	"context"
	"fmt"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Config is where mail goes, read once from SMTP_URL and MAIL_FROM:
// smtp://[user:pass@]host:port?tls=none|starttls|implicit (default starttls).
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // none, starttls or implicit
	From     string
}

// ParseURL reads SMTP_URL.
func ParseURL(raw, from string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return Config{}, fmt.Errorf("SMTP_URL: want smtp://[user:pass@]host:port?tls=none|starttls|implicit, got %q", redact(raw))
	}
	c := Config{Host: u.Hostname(), TLS: u.Query().Get("tls"), From: strings.TrimSpace(from)}
	if c.TLS == "" {
		c.TLS = "starttls"
	}
	switch c.TLS {
	case "none", "starttls":
		c.Port = 587
	case "implicit":
		c.Port = 465
	default:
		return Config{}, fmt.Errorf("SMTP_URL: tls=%q; use none, starttls or implicit", c.TLS)
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return Config{}, fmt.Errorf("SMTP_URL: port %q is not a port", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.From == "" {
		return Config{}, fmt.Errorf("MAIL_FROM is needed with SMTP_URL")
	}
	return c, nil
}

// redact hides a password in a URL shown in an error.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return "(unreadable)"
}

// Message is one email, finished: the text and HTML parts of the same
// words, and a Message-ID that stays the same when it is sent again (so a
// retried send is recognisable as the same message).
type Message struct {
	To        string
	Subject   string
	Text      string
	HTML      string
	MessageID string // without the angle brackets: "appointment-7.reminder-1@clinic.example"
	Date      time.Time
}

// Sender sends email through one SMTP server.
type Sender struct {
	cfg Config
}

// NewSender checks the configuration and returns a sender.
func NewSender(cfg Config) *Sender { return &Sender{cfg: cfg} }

// Send delivers one message, or says why it could not (the caller retries).
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	if m.Date.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Date)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(15 * time.Second)}
	switch s.cfg.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "implicit":
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: sending to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

// Deliver sends a finished message; email has no gateway id.
func (s *Sender) Deliver(ctx context.Context, o clinic.Outgoing) (string, error) {
	return "", s.Send(ctx, Message{To: o.To, Subject: o.Subject, Text: o.Text, HTML: o.HTML, MessageID: o.MessageID})
}
