package server

import (
	"encoding/hex"
	"net/http"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// consentFormJSON is one version of the consent form on the wire.
type consentFormJSON struct {
	ID        int64  `json:"id"`
	Version   int    `json:"version"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	BodyES    string `json:"body_es"`
	SHA256    string `json:"sha256"` // of the English text with its title
	CreatedAt string `json:"created_at"`
}

func toConsentFormJSON(f clinic.ConsentForm) consentFormJSON {
	return consentFormJSON{ID: f.ID, Version: f.Version, Title: f.Title, Body: f.Body, BodyES: f.BodyES,
		SHA256: hex.EncodeToString(f.TextHash(i18n.English)), CreatedAt: f.CreatedAt.UTC().Format(time.RFC3339)}
}

type consentFormRequest struct {
	Title  string `json:"title"`
	Body   string `json:"body"`
	BodyES string `json:"body_es"`
}

// apiCreateConsentForm writes a new version of the consent form.
func (s *Server) apiCreateConsentForm(w http.ResponseWriter, r *http.Request) {
	var req consentFormRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.db.CreateConsentForm(r.Context(), clinic.ConsentForm{Title: req.Title, Body: req.Body, BodyES: req.BodyES})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toConsentFormJSON(f))
}

// apiConsentForms lists every version, the current first.
func (s *Server) apiConsentForms(w http.ResponseWriter, r *http.Request) {
	forms, err := s.db.ConsentForms(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []consentFormJSON{}
	for _, f := range forms {
		out = append(out, toConsentFormJSON(f))
	}
	writeJSON(w, http.StatusOK, out)
}

// apiCurrentConsentForm answers the current version; 404 when the clinic
// has none.
func (s *Server) apiCurrentConsentForm(w http.ResponseWriter, r *http.Request) {
	f, err := s.db.CurrentConsentForm(r.Context())
	if err == nil && f == nil {
		err = clinic.Errorf(clinic.ENOTFOUND, "The clinic has no consent form yet.")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toConsentFormJSON(*f))
}

// signatureJSON is a patient's signature on the wire.
type signatureJSON struct {
	ID         int64  `json:"id"`
	FormID     int64  `json:"form_id"`
	Version    int    `json:"version"`
	Lang       string `json:"lang"`
	SHA256     string `json:"sha256"`
	SignedName string `json:"signed_name"`
	SignedAt   string `json:"signed_at"`
	Via        string `json:"via"`
}

func toSignatureJSON(g clinic.ConsentSignature) signatureJSON {
	return signatureJSON{ID: g.ID, FormID: g.FormID, Version: g.Version, Lang: string(g.Lang), SHA256: hex.EncodeToString(g.TextSHA256),
		SignedName: g.SignedName, SignedAt: g.SignedAt.UTC().Format(time.RFC3339), Via: g.Via}
}

// apiMyConsent answers the current form in the patient's language and
// whether they signed it.
func (s *Server) apiMyConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	st, err := s.db.Consent(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{"form": nil, "signed": st.Signed, "signatures": []signatureJSON{}}
	if st.Form != nil {
		text, lang := st.Form.Text(s.locale(r).Lang)
		out["form"] = map[string]any{"id": st.Form.ID, "version": st.Form.Version, "title": st.Form.Title, "text": text, "lang": lang}
	}
	sigs := []signatureJSON{}
	for _, g := range st.Signatures {
		sigs = append(sigs, toSignatureJSON(g))
	}
	out["signatures"] = sigs
	writeJSON(w, http.StatusOK, out)
}

type signRequest struct {
	FormID     int64  `json:"form_id"`
	Version    int    `json:"version"`
	SignedName string `json:"signed_name"`
}

// apiMySignConsent signs the current consent form as the signed-in patient.
func (s *Server) apiMySignConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	var req signRequest
	if err := decodeJSON(r, &req, "form_id", "version", "signed_name"); err != nil {
		s.fail(w, r, err)
		return
	}
	sig, err := s.db.SignConsent(r.Context(), id, clinic.SignatureRequest{FormID: req.FormID, Version: req.Version, SignedName: req.SignedName},
		postgres.Signing{Lang: s.locale(r).Lang, Via: "portal"}, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toSignatureJSON(sig))
}
