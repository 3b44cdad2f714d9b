package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// Filling freed chairs (issue 16): candidates, offers, the waitlist, the
// fill report; and the patient's own booking (the /me routes).

type fillCandidateJSON struct {
	PatientID int64   `json:"patient_id"`
	Name      string  `json:"name"`
	Reason    string  `json:"reason"`
	Why       string  `json:"why"`
	DueDate   *string `json:"due_date"`
	Score     int     `json:"score"`
	// MovesAppointmentID is the visit that would move into the slot (a
	// waitlisted patient's booked visit, a loading session); null for a
	// new booking.
	MovesAppointmentID *int64 `json:"moves_appointment_id"`
}

func toCandidateJSON(c clinic.FillCandidate) fillCandidateJSON {
	out := fillCandidateJSON{PatientID: c.PatientID, Name: c.Name, Reason: string(c.Reason), Why: c.Why, Score: c.Score}
	if c.DueDate != nil {
		d := c.DueDate.String()
		out.DueDate = &d
	}
	if c.Moves != nil {
		out.MovesAppointmentID = &c.Moves.ID
	}
	return out
}

// apiFillCandidates ranks who could take a free slot: ?start=RFC3339&minutes=N.
func (s *Server) apiFillCandidates(w http.ResponseWriter, r *http.Request) {
	p := clinic.Problems{}
	start := parseStart(r.URL.Query().Get("start"), p)
	minutes, err := strconv.Atoi(r.URL.Query().Get("minutes"))
	if err != nil {
		minutes = 0 // refused as out of bounds
	}
	clinic.CheckSlotMinutes(minutes, p)
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	cands, err := s.db.FillCandidates(r.Context(), start, minutes, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]fillCandidateJSON, len(cands))
	for i, c := range cands {
		out[i] = toCandidateJSON(c)
	}
	writeJSON(w, http.StatusOK, out)
}

type wishRequest struct {
	Before    clinic.Date `json:"before"`
	PartOfDay string      `json:"part_of_day"`
}

type wishJSON struct {
	PatientID int64  `json:"patient_id"`
	Before    string `json:"before"`
	PartOfDay string `json:"part_of_day"`
	Since     string `json:"since"`
}

// apiSetWish puts a patient on the waitlist.
func (s *Server) apiSetWish(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	var req wishRequest
	if err := decodeJSON(r, &req, "before"); err != nil {
		s.fail(w, r, err)
		return
	}
	part, ok := clinic.ParsePartOfDay(req.PartOfDay)
	if !ok {
		s.fail(w, r, clinic.Invalid(map[string]string{"part_of_day": "Use morning, afternoon or any."}))
		return
	}
	wish, err := s.db.SetWish(r.Context(), id, clinic.Wish{Before: req.Before, Part: part}, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, wishJSON{PatientID: id, Before: wish.Before.String(), PartOfDay: string(wish.Part),
		Since: wish.Since.UTC().Format(time.RFC3339)})
}

// apiRemoveWish takes a patient off the waitlist.
func (s *Server) apiRemoveWish(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err == nil {
		err = s.db.RemoveWish(r.Context(), id, s.now())
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type offerRequest struct {
	Start      string  `json:"start"`
	ChairID    int64   `json:"chair_id"`
	Minutes    int     `json:"minutes"`
	PatientIDs []int64 `json:"patient_ids"`
	// ExpiresAt is when the offer ends; default two hours from now, never
	// after the slot begins.
	ExpiresAt string `json:"expires_at"`
}

type offerJSON struct {
	ID        int64              `json:"id"`
	ChairID   int64              `json:"chair_id"`
	Start     string             `json:"start"`
	Minutes   int                `json:"minutes"`
	ExpiresAt string             `json:"expires_at"`
	Patients  []offerPatientJSON `json:"patients"`
}

type offerPatientJSON struct {
	PatientID int64    `json:"patient_id"`
	Channels  []string `json:"channels"`
}

// apiCreateOffer offers a free slot to patients: 201 with the offer.
func (s *Server) apiCreateOffer(w http.ResponseWriter, r *http.Request) {
	var req offerRequest
	if err := decodeJSON(r, &req, "start", "chair_id", "minutes", "patient_ids"); err != nil {
		s.fail(w, r, err)
		return
	}
	p := clinic.Problems{}
	o := clinic.NewOffer{Start: parseStart(req.Start, p), ChairID: req.ChairID, Minutes: req.Minutes, PatientIDs: req.PatientIDs}
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, req.ExpiresAt)
		if err != nil {
			p.Add("expires_at", "Give the end of the offer as an RFC 3339 time.")
		}
		o.Expires = t
	}
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	offer, err := s.db.CreateOffer(r.Context(), o, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	writeJSON(w, http.StatusCreated, toOfferJSON(offer, loc))
}

func toOfferJSON(o postgres.Offer, loc *time.Location) offerJSON {
	out := offerJSON{ID: o.ID, ChairID: o.ChairID, Start: o.Start.In(loc).Format(time.RFC3339), Minutes: o.Minutes,
		ExpiresAt: o.Expires.In(loc).Format(time.RFC3339), Patients: make([]offerPatientJSON, len(o.Patients))}
	for i, p := range o.Patients {
		chs := make([]string, len(p.Channels))
		for j, c := range p.Channels {
			chs[j] = string(c)
		}
		out.Patients[i] = offerPatientJSON{PatientID: p.ID, Channels: chs}
	}
	return out
}

type fillReportJSON struct {
	From                string                           `json:"from"`
	To                  string                           `json:"to"`
	FreedSlots          int                              `json:"freed_slots"`
	FreedChairHours     float64                          `json:"freed_chair_hours"`
	FilledSlots         int                              `json:"filled_slots"`
	FilledChairHours    float64                          `json:"filled_chair_hours"`
	MedianMinutesToFill *float64                         `json:"median_minutes_to_fill"`
	ByChannel           map[string]fillReportChannelJSON `json:"by_channel"`
}

type fillReportChannelJSON struct {
	Slots      int     `json:"slots"`
	ChairHours float64 `json:"chair_hours"`
}

func hours(minutes int) float64 { return float64(minutes*100/60) / 100 }

// apiFillReport reports freed chair-hours and their re-filling: ?from=&to=.
func (s *Server) apiFillReport(w http.ResponseWriter, r *http.Request) {
	from, to, err := dateRange(r, 367)
	var rep postgres.FillReport
	if err == nil {
		rep, err = s.db.FillReport(r.Context(), from, to)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := fillReportJSON{From: from.String(), To: to.String(), FreedSlots: rep.FreedSlots, FreedChairHours: hours(rep.FreedMinutes),
		FilledSlots: rep.FilledSlots, FilledChairHours: hours(rep.FilledMinutes), MedianMinutesToFill: rep.MedianMinutesToFill,
		ByChannel: map[string]fillReportChannelJSON{}}
	for _, ch := range []clinic.Placement{clinic.PlacedByDesk, clinic.PlacedByOffer, clinic.PlacedBySelf} {
		c := rep.ByChannel[ch]
		out.ByChannel[string(ch)] = fillReportChannelJSON{Slots: c.Slots, ChairHours: hours(c.Minutes)}
	}
	writeJSON(w, http.StatusOK, out)
}

type bookingOptionsJSON struct {
	Due    string     `json:"due_date"`
	Window windowJSON `json:"window"`
	Slots  []slotJSON `json:"slots"`
	// Moves is the booked next infusion a slot chosen would move; null
	// when nothing is booked.
	Moves *appointmentJSON `json:"moves"`
}

type windowJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type slotJSON struct {
	Start   string `json:"start"`
	ChairID int64  `json:"chair_id"`
}

// apiMyBookingOptions answers the signed-in patient's booking window and
// the free times in it.
func (s *Server) apiMyBookingOptions(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	opts, err := s.db.BookingOptions(r.Context(), id, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	out := bookingOptionsJSON{Due: opts.Due.String(), Window: windowJSON{From: opts.Window.From.String(), To: opts.Window.To.String()},
		Slots: make([]slotJSON, len(opts.Slots))}
	for i, sl := range opts.Slots {
		out.Slots[i] = slotJSON{Start: sl.Start.In(loc).Format(time.RFC3339), ChairID: sl.ChairID}
	}
	if opts.Booked != nil {
		a := toAppointmentJSON(*opts.Booked, loc)
		out.Moves = &a
	}
	writeJSON(w, http.StatusOK, out)
}

type ownBookingRequest struct {
	Start   string `json:"start"`
	Version int    `json:"version"`
}

// apiMyBook books the signed-in patient's own next infusion: 201.
func (s *Server) apiMyBook(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	var req ownBookingRequest
	if err := decodeJSON(r, &req, "start"); err != nil {
		s.fail(w, r, err)
		return
	}
	p := clinic.Problems{}
	start := parseStart(req.Start, p)
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.db.BookOwn(r.Context(), id, start, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	writeJSON(w, http.StatusCreated, toAppointmentJSON(a, loc))
}

// apiMyReschedule moves the signed-in patient's own next infusion.
func (s *Server) apiMyReschedule(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	apptID, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
		return
	}
	// Whose appointment it is is decided before the body is judged: another
	// patient's is "not found" whatever the body says.
	var req ownBookingRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	start, _ := time.Parse(time.RFC3339, strings.TrimSpace(req.Start))
	a, err := s.db.MoveOwn(r.Context(), id, apptID, req.Version, start, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	writeJSON(w, http.StatusOK, toAppointmentJSON(a, loc))
}

type myOfferJSON struct {
	ID        int64  `json:"id"`
	Start     string `json:"start"`
	Minutes   int    `json:"minutes"`
	ExpiresAt string `json:"expires_at"`
}

// apiMyOffers lists the freed chairs offered to the signed-in patient, still open.
func (s *Server) apiMyOffers(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	offers, err := s.db.PatientOffers(r.Context(), id, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	out := make([]myOfferJSON, len(offers))
	for i, o := range offers {
		out[i] = myOfferJSON{ID: o.ID, Start: o.Start.In(loc).Format(time.RFC3339), Minutes: o.Minutes, ExpiresAt: o.Expires.In(loc).Format(time.RFC3339)}
	}
	writeJSON(w, http.StatusOK, out)
}

// apiMyClaimOffer takes an offer made to the signed-in patient: 201 with
// the visit booked (or their next one moved there); 409 when it was taken
// or ended, with the next free time in their window as the alternative. A
// second claim of an offer already theirs is 409 too.
func (s *Server) apiMyClaimOffer(w http.ResponseWriter, r *http.Request) {
	o, sent, err := s.claimOwnOffer(w, r)
	if sent {
		return
	}
	if err == nil && o.Booked == nil {
		e := &clinic.Error{Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: "This slot has just been taken."}
		switch o.State {
		case postgres.OfferEnded:
			e.Message = "This offer has ended."
		case postgres.OfferYours:
			e = clinic.Errorf(clinic.ECONFLICT, "You took this time already: it is among your appointments.")
		}
		if o.Next != nil {
			e.Alternatives = []clinic.Slot{*o.Next}
		}
		err = e
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	writeJSON(w, http.StatusCreated, toAppointmentJSON(*o.Booked, loc))
}
