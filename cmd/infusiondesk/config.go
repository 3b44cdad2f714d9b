package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/server"
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
}

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
	if v := getenv("DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad("DB_MAX_CONNS", "use a number from 1 to 1000")
		}
		c.DBMaxConns = int32(n)
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
