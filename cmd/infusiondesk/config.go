package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/mail"
	"github.com/infusiondesk/infusiondesk/internal/server"
	"github.com/infusiondesk/infusiondesk/internal/sms"
	"golang.org/x/mod/sumdb/note"
)

// config is everything read from the environment, parsed once here.
type config struct {
	DatabaseURL     string
	Addr            string
	LogLevel        slog.Level
	LogJSON         bool
	TLSCertFile     string
	TLSKeyFile      string
	DBMaxConns      int32
	ShutdownTimeout time.Duration
	Server          server.Config
	// Messages: each channel is on when configured, else off (and the
	// message log says why).
	BaseURL string
	Mail    *mail.Config
	SMS     *sms.Config
	// MessageRetry is the wait after a message's first failed try,
	// doubling after each (MESSAGE_RETRY_BASE).
	MessageRetry time.Duration
	// AuditSigningKey signs the audit log's tree heads (a note signer
	// key); "" makes the server generate one and keep it in the database.
	AuditSigningKey string
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) on this
	// address, apart from the application (PPROF_ADDR; keep it on loopback).
	PprofAddr string
}

// mailOff and smsOff say why a channel is off.
const (
	mailOff = "SMTP_URL is not set."
	smsOff  = "SMS_API_BASE is not set."
)

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		DatabaseURL:     getenv("DATABASE_URL"),
		Addr:            or(getenv("ADDR"), "127.0.0.1:8080"),
		TLSCertFile:     getenv("TLS_CERT_FILE"),
		TLSKeyFile:      getenv("TLS_KEY_FILE"),
		ShutdownTimeout: 30 * time.Second,
		Server:          server.DefaultConfig(),
	}
	var errs []error
	bad := func(name, msg string) { errs = append(errs, fmt.Errorf("%s: %s", name, msg)) }

	switch strings.ToLower(or(getenv("LOG_LEVEL"), "info")) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		bad("LOG_LEVEL", "use debug, info, warn or error")
	}
	switch strings.ToLower(or(getenv("LOG_FORMAT"), "text")) {
	case "text":
	case "json":
		c.LogJSON = true
	default:
		bad("LOG_FORMAT", "use text or json")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("TLS_CERT_FILE/TLS_KEY_FILE", "set both or neither")
	}
	boolean := func(name string, def bool) bool {
		v := getenv(name)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(name, "use true or false")
		}
		return b
	}
	c.Server.SecureCookies = boolean("SECURE_COOKIES", c.TLSCertFile != "")
	c.Server.TrustProxyHeaders = boolean("TRUST_PROXY_HEADERS", false)
	duration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad(name, "use a duration such as 15m or 12h")
			return def
		}
		return d
	}
	c.Server.StaffIdle = duration("STAFF_IDLE_TIMEOUT", c.Server.StaffIdle)
	c.Server.PatientIdle = duration("PATIENT_IDLE_TIMEOUT", c.Server.PatientIdle)
	c.Server.SessionLifetime = duration("SESSION_LIFETIME", c.Server.SessionLifetime)
	c.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", c.ShutdownTimeout)
	c.MessageRetry = duration("MESSAGE_RETRY_BASE", 30*time.Second)
	if v := getenv("DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad("DB_MAX_CONNS", "use a number from 1 to 1000")
		}
		c.DBMaxConns = int32(n)
	}
	c.BaseURL = strings.TrimRight(getenv("BASE_URL"), "/")
	if smtpURL := getenv("SMTP_URL"); smtpURL != "" {
		mc, err := mail.ParseURL(smtpURL, getenv("MAIL_FROM"))
		if err != nil {
			errs = append(errs, err)
		} else {
			c.Mail = &mc
		}
	}
	if base := getenv("SMS_API_BASE"); base != "" {
		sc := sms.Config{APIBase: base, AccountSID: getenv("SMS_ACCOUNT_SID"), AuthToken: getenv("SMS_AUTH_TOKEN"), From: getenv("SMS_FROM")}
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("SMS_API_BASE", "use the gateway's address, e.g. https://api.twilio.com")
		}
		if sc.AccountSID == "" || sc.AuthToken == "" {
			bad("SMS_ACCOUNT_SID/SMS_AUTH_TOKEN", "set both with SMS_API_BASE")
		}
		if from, err := clinic.NormalizePhone(sc.From); err != nil {
			bad("SMS_FROM", "the clinic's texting number in E.164, e.g. +16025550100")
		} else {
			sc.From = from
		}
		c.SMS = &sc
		c.Server.SMSAuthToken = sc.AuthToken
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("BASE_URL", "use the address patients open, e.g. https://clinic.example")
		}
	} else if c.Mail != nil || c.SMS != nil {
		bad("BASE_URL", "set the address patients open (e.g. https://clinic.example): messages link to it")
	} else {
		c.BaseURL = "http://" + c.Addr // links in messages that nobody receives
	}
	c.Server.BaseURL = c.BaseURL
	c.PprofAddr = getenv("PPROF_ADDR")
	if c.AuditSigningKey = strings.TrimSpace(getenv("AUDIT_SIGNING_KEY")); c.AuditSigningKey != "" {
		if vkey, err := clinic.AuditVerifierKey(c.AuditSigningKey); err != nil {
			bad("AUDIT_SIGNING_KEY", "not a note signer key (PRIVATE+KEY+name+hash+key); make one with `infusiondesk audit keygen`")
		} else {
			c.Server.AuditKeys = append(c.Server.AuditKeys, vkey)
		}
	}
	for _, k := range strings.Fields(getenv("AUDIT_VERIFIER_KEYS")) {
		if _, err := note.NewVerifier(k); err != nil {
			bad("AUDIT_VERIFIER_KEYS", fmt.Sprintf("%q is not a note verifier key (name+hash+key)", k))
			continue
		}
		c.Server.AuditKeys = append(c.Server.AuditKeys, k)
	}
	return c, errors.Join(errs...)
}

func (c config) needDatabase() error {
	if c.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set (e.g. postgres://user@localhost:5432/infusiondesk); `make run` starts a local database for you")
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
