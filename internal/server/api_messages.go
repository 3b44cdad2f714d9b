package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/sms"
)

func (s *Server) apiAppointmentMessages(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
		return
	}
	ms, err := s.db.AppointmentMessages(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]messageJSON, len(ms))
	for i, m := range ms {
		out[i] = messageJSON{ID: m.ID, Kind: string(m.Kind), Channel: string(m.Channel), Status: m.Status,
			ScheduledFor: m.ScheduledFor.UTC().Format(time.RFC3339), SentAt: rfc3339(m.SentAt)}
		if m.Error != "" {
			out[i].Error = &m.Error
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiRetryMessage(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such message."))
		return
	}
	if err := s.db.RetryMessage(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": "scheduled"})
}

// smsInbound is the gateway's webhook for a patient's text back, in
// Twilio's form shape, signed with X-Twilio-Signature over BASE_URL and
// the path. STOP and START switch the patient's texts off and on; C or
// CONFIRM confirms their next visit. The answer is empty TwiML: the
// gateway itself answers STOP as the carriers require.
func (s *Server) smsInbound(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SMSAuthToken == "" {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "Text messages are off on this server."))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	full := strings.TrimRight(s.cfg.BaseURL, "/") + r.URL.RequestURI()
	if !sms.Verify(s.cfg.SMSAuthToken, r.Header.Get("X-Twilio-Signature"), full, r.PostForm) {
		s.fail(w, r, clinic.Errorf(clinic.EFORBIDDEN, "The signature does not match."))
		return
	}
	from, err := clinic.NormalizePhone(r.PostForm.Get("From"))
	if err != nil {
		s.fail(w, r, clinic.Invalid(map[string]string{"From": "Not a phone number."}))
		return
	}
	ctx, now := r.Context(), s.now()
	switch sms.ParseReply(r.PostForm.Get("Body")) {
	case sms.ReplyStop:
		_, err = s.db.SetTexting(ctx, from, false, now)
	case sms.ReplyStart:
		_, err = s.db.SetTexting(ctx, from, true, now)
	case sms.ReplyConfirm:
		_, err = s.db.ConfirmNextByText(ctx, from, now)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`))
}

// messageJSON is one message in the log.
type messageJSON struct {
	ID           int64   `json:"id"`
	Kind         string  `json:"kind"`
	Channel      string  `json:"channel"`
	Status       string  `json:"status"`
	ScheduledFor string  `json:"scheduled_for"`
	SentAt       *string `json:"sent_at"`
	Error        *string `json:"error"`
}
