package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// The consent pages: the patient reads and signs in the portal or on the
// desk's tablet; the admin writes new versions.

// consentView is the page for a patient's consent state, in lang.
func consentView(st postgres.ConsentState, name string, r *http.Request, s *Server) web.ConsentPageView {
	_, loc := s.clinicInfo(r.Context())
	v := web.ConsentPageView{Form: st.Form, Name: name, Form2: map[string]string{}, Fields: map[string]string{}, Loc: loc}
	if st.Form != nil {
		v.Text, _ = st.Form.Text(s.locale(r).Lang)
		for i, g := range st.Signatures {
			if g.FormID == st.Form.ID && st.Signed {
				v.Signed = &st.Signatures[i]
				break
			}
		}
	}
	return v
}

// signatureFromForm reads the signing form: the version read, the tick and
// the typed name.
func signatureFromForm(r *http.Request) (clinic.SignatureRequest, clinic.Problems) {
	p := clinic.Problems{}
	id, _ := strconv.ParseInt(r.PostForm.Get("form_id"), 10, 64)
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	if r.PostForm.Get("agree") != "1" {
		p.Add("agree", "Tick the box to say you have read the form and agree.")
	}
	return clinic.SignatureRequest{FormID: id, Version: version, SignedName: r.PostForm.Get("signed_name")}, p
}

var consentNotices = notices{"signed": "Thank you: your consent is signed."}

func (s *Server) portalConsent(w http.ResponseWriter, r *http.Request) {
	s.renderPortalConsent(w, r, http.StatusOK, nil)
}

func (s *Server) renderPortalConsent(w http.ResponseWriter, r *http.Request, status int, p *refusal) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	st, err := s.db.Consent(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	patient, err := s.db.Patient(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := consentView(st, patient.FullName(), r, s)
	v.Action, v.Notice = "/portal/consent", consentNotices.of(r)
	if p != nil {
		v.Message, v.Fields = p.Message, p.Fields
		v.Form2 = map[string]string{"signed_name": r.PostForm.Get("signed_name"), "agree": r.PostForm.Get("agree")}
	}
	s.render(w, r, status, web.ConsentPage(s.meta(r, "Consent", "/portal/consent"), v))
}

func (s *Server) portalSignConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	req, problems := signatureFromForm(r)
	err := problems.Err()
	if err == nil {
		_, err = s.db.SignConsent(r.Context(), id, req, postgres.Signing{Lang: s.locale(r).Lang, Via: "portal"}, s.now())
	}
	s.answerForm(w, r, err, "/portal/consent?done=signed", func(p refusal) { s.renderPortalConsent(w, r, p.Status, &p) })
}

// deskKiosk hands the desk's tablet to a patient: the desk is signed out
// on this device and the tablet shows the patient's consent form (and the
// visit's PEG) and nothing else.
func (s *Server) deskKiosk(w http.ResponseWriter, r *http.Request) {
	patientID, ok := s.postedID(w, r)
	if !ok {
		return
	}
	var appointmentID *int64
	if a, err := strconv.ParseInt(r.PostForm.Get("appointment_id"), 10, 64); err == nil {
		appointmentID = &a
	}
	token, hash := auth.NewToken()
	if err := s.db.OpenKiosk(r.Context(), patientID, appointmentID, hash, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	if c, err := r.Cookie(s.cookieName()); err == nil && c.Value != "" {
		if err := s.db.SignOut(r.Context(), auth.HashToken(c.Value)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/kiosk/"+token, http.StatusSeeOther)
}

func (s *Server) kioskPage(w http.ResponseWriter, r *http.Request) {
	s.renderKiosk(w, r, http.StatusOK, nil)
}

func (s *Server) renderKiosk(w http.ResponseWriter, r *http.Request, status int, p *refusal) {
	k, err := s.db.Kiosk(r.Context(), auth.HashToken(chi.URLParam(r, "token")), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	speak(r, k.Lang)
	v := consentView(k.Consent, k.Name, r, s)
	v.Action, v.Kiosk, v.AskPEG = "/kiosk/"+chi.URLParam(r, "token"), true, k.AppointmentID != nil && k.PEG == nil
	if p != nil {
		v.Message, v.Fields = p.Message, p.Fields
		for _, f := range []string{"signed_name", "agree", "peg_pain", "peg_enjoyment", "peg_activity"} {
			v.Form2[f] = r.PostForm.Get(f)
		}
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, status, web.ConsentPage(s.meta(r, "Consent", ""), v))
}

func (s *Server) kioskSign(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	req, problems := signatureFromForm(r)
	var peg *clinic.PEG
	if r.PostForm.Get("ask_peg") == "1" {
		g, ok := pegFromForm(r, problems)
		if ok {
			peg = &g
		}
	}
	err := problems.Err()
	var k postgres.Kiosk
	if err == nil {
		k, err = s.db.FinishKiosk(r.Context(), auth.HashToken(chi.URLParam(r, "token")), &req, peg, s.now())
	}
	if err != nil {
		if p, ok := refusalOf(err); ok && clinic.ErrorCode(err) != clinic.ENOTFOUND {
			s.renderKiosk(w, r, p.Status, &p)
			return
		}
		s.fail(w, r, err)
		return
	}
	speak(r, k.Lang)
	s.render(w, r, http.StatusOK, web.KioskDonePage(s.meta(r, "Thank you", ""), true))
}

// pegFromForm reads the three PEG answers, each required.
func pegFromForm(r *http.Request, p clinic.Problems) (clinic.PEG, bool) {
	var g clinic.PEG
	ok := true
	for _, x := range []struct {
		field string
		v     *int
	}{{"peg_pain", &g.Pain}, {"peg_enjoyment", &g.Enjoyment}, {"peg_activity", &g.Activity}} {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get(x.field)))
		if err != nil {
			p.Add(x.field, "Choose from 0 to 10.")
			ok = false
			continue
		}
		*x.v = n
	}
	return g, ok
}

var adminConsentNotices = notices{"published": "The new version is published. Patients sign it before their next infusion."}

func (s *Server) adminConsent(w http.ResponseWriter, r *http.Request) {
	s.renderAdminConsent(w, r, http.StatusOK, web.AdminConsentView{Notice: adminConsentNotices.of(r)})
}

func (s *Server) renderAdminConsent(w http.ResponseWriter, r *http.Request, status int, v web.AdminConsentView) {
	forms, err := s.db.ConsentForms(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Forms = forms
	_, v.Loc = s.clinicInfo(r.Context())
	if v.Title == "" && v.Body == "" && len(forms) > 0 { // a new version starts from the current one
		v.Title, v.Body, v.BodyES = forms[0].Title, forms[0].Body, forms[0].BodyES
	}
	s.render(w, r, status, web.AdminConsentPage(s.meta(r, "Consent form", "/admin/consent"), v))
}

func (s *Server) adminSaveConsent(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	f := clinic.ConsentForm{Title: r.PostForm.Get("title"), Body: r.PostForm.Get("body"), BodyES: r.PostForm.Get("body_es")}
	_, err := s.db.CreateConsentForm(r.Context(), f)
	s.answerForm(w, r, err, "/admin/consent?done=published", func(p refusal) {
		s.renderAdminConsent(w, r, p.Status, web.AdminConsentView{Title: f.Title, Body: f.Body, BodyES: f.BodyES, Fields: p.Fields, Message: p.Message})
	})
}
