// Package server is the HTTP side: one route table (routes.go), the
// middleware, the HTML pages in one file per feature (pages_<feature>.go)
// and the JSON API under /api/v1 in one file per resource
// (api_<resource>.go). Handlers are thin: they parse and check input,
// call the store and render. Errors become HTTP statuses in one place
// (errors.go).
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// Config is the server's behaviour, read from the environment by main.
type Config struct {
	// SecureCookies marks cookies Secure and names the session cookie with
	// the __Host- prefix. Set it whenever the site is reached over TLS.
	SecureCookies bool
	// TrustProxyHeaders takes the client address from X-Forwarded-For (set
	// by a reverse proxy in front); otherwise the connection's address.
	TrustProxyHeaders bool
	StaffIdle         time.Duration // staff sessions end after this long idle
	PatientIdle       time.Duration // patient sessions end after this long idle
	SessionLifetime   time.Duration // every session ends this long after sign-in
	Throttle          auth.Throttle
	MaxBodyBytes      int64
	// BaseURL is the site's public address (BASE_URL): text-message
	// webhooks are signed over it.
	BaseURL string
	// SMSAuthToken verifies the gateway's webhook; "" turns it off.
	SMSAuthToken string
	// AuditKeys are the note verifier keys the audit log's heads are
	// checked with (the public half of AUDIT_SIGNING_KEY, and any in
	// AUDIT_VERIFIER_KEYS); none: the keys the database records.
	AuditKeys []string
	// Now is the clock; tests set it to days such as a change of daylight
	// saving time. nil means time.Now.
	Now func() time.Time
}

// DefaultConfig is the production configuration.
func DefaultConfig() Config {
	return Config{
		StaffIdle:       15 * time.Minute,
		PatientIdle:     60 * time.Minute,
		SessionLifetime: 12 * time.Hour,
		Throttle:        auth.DefaultThrottle,
		MaxBodyBytes:    1 << 20,
	}
}

// Server serves the clinic's pages and API.
type Server struct {
	db      *postgres.DB
	cfg     Config
	log     *slog.Logger
	router  chi.Router   // the routes, for tests to walk
	handler http.Handler // the routes behind cross-origin protection
}

// New builds the server and its routes.
func New(db *postgres.DB, cfg Config, log *slog.Logger) *Server {
	s := &Server{db: db, cfg: cfg, log: log}
	s.router = s.routes()
	// Every state-changing request from another origin is refused.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, clinic.Errorf(clinic.EFORBIDDEN, "This request came from another site and was refused."))
	}))
	s.handler = cop.Handler(s.router)
	return s
}

// now is the current instant by the server's clock.
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Purge deletes expired sessions and old failed sign-ins every interval
// until ctx ends.
func (s *Server) Purge(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.db.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("purging expired sessions", "err", err)
			}
		}
	}
}

// WatchDatabase logs whether the database is reachable: at start, retrying
// with backoff until it is, and whenever that changes.
func (s *Server) WatchDatabase(ctx context.Context) {
	ready := false
	wait := time.Second
	on := "" // the database node last reached
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		node, err := s.db.Ping(pctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && !ready:
			s.log.Info("database ready", "node", node)
			ready, wait, on = true, time.Second, node
		case err == nil && node != on:
			s.log.Warn("database primary changed", "from", on, "to", node)
			on = node
		case err != nil:
			if ready {
				s.log.Error("database became unreachable", "err", err)
			} else {
				s.log.Warn("database not ready, retrying", "err", err, "retry_in", wait.String())
			}
			ready = false
		}
		next := 10 * time.Second
		if !ready {
			next, wait = wait, min(wait*2, 30*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}

// absoluteURL is path on this server as the browser reached it.
func (s *Server) absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}
