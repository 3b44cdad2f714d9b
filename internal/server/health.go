package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/web"
)

// healthz answers while the process is up.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database is reachable, takes writes and
// is migrated, and names the database node it reached (in a replicated
// formation, the primary). The reason stays in the log; the answer is public.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	node, err := s.db.Ping(ctx)
	if err != nil {
		s.log.Warn("not ready", "request_id", info(r.Context()).id, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "database": node})
}

// static serves the embedded assets. A URL carrying the asset's current
// fingerprint may be cached for good; anything else is revalidated.
func (s *Server) static() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(web.Static()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if web.Fingerprint(name) == "" {
			http.NotFound(w, r) // directories and unknown files
			return
		}
		if v := r.URL.Query().Get("v"); v != "" && v == web.Fingerprint(name) {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
