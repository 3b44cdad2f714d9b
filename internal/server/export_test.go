package server

import "github.com/go-chi/chi/v5"

// Routes exposes the router for tests that walk it.
func (s *Server) Routes() chi.Routes { return s.router }

// OpenAPIDoc is the embedded OpenAPI document.
var OpenAPIDoc = openAPIDoc
