package server

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes the API; a test keeps it in step with the routes and
// checks responses against its schemas.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}
