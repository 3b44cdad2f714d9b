package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// Filling freed chairs (issue 16): the desk's fill page and offers, the
// claim link's page, the waitlist forms, the patient's own booking page.

// fillSlot reads the free slot a fill page is about: ?chair=&start=&minutes=.
func fillSlot(q map[string][]string) (chairID int64, start time.Time, minutes int, err error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	p := clinic.Problems{}
	if chairID, err = strconv.ParseInt(get("chair"), 10, 64); err != nil || chairID <= 0 {
		p.Add("chair_id", "Choose the chair that is free.")
	}
	if start, err = time.Parse(time.RFC3339, get("start")); err != nil {
		p.Add("start", "Give the start of the free time.")
	}
	if minutes, err = strconv.Atoi(get("minutes")); err != nil {
		p.Add("minutes", "Give the free time in minutes.")
	}
	return chairID, start, minutes, p.Err()
}

// deskFill shows who could take a free slot, best first, with one-click
// booking and offers.
func (s *Server) deskFill(w http.ResponseWriter, r *http.Request) {
	chairID, start, minutes, err := fillSlot(r.URL.Query())
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "This fill page's address is incomplete: open it from the appointment or the desk's home page."))
		return
	}
	v := web.FillView{ChairID: chairID, Start: start, Minutes: minutes, Expiry: "120"}
	if r.URL.Query().Get("done") == "offered" {
		v.Notice = "The offers are on their way. The first patient to take the slot is booked; you will see it here and on the day view."
	}
	s.renderFill(w, r, http.StatusOK, v)
}

func (s *Server) renderFill(w http.ResponseWriter, r *http.Request, status int, v web.FillView) {
	v.End = v.Start.Add(time.Duration(v.Minutes) * time.Minute)
	err := s.read(r, func(r *http.Request) error {
		ctx := r.Context()
		sched, err := s.db.Schedule(ctx)
		if err != nil {
			return err
		}
		v.Loc = sched.Loc
		chairs, err := s.db.Chairs(ctx)
		if err != nil {
			return err
		}
		v.ChairName = web.BookingForm{Chairs: chairs}.ChairName(v.ChairID)
		if v.Candidates, err = s.db.FillCandidates(ctx, v.Start, v.Minutes, s.now()); err != nil {
			return err
		}
		offers, err := s.db.SlotOffers(ctx, v.ChairID, v.Start)
		if err != nil {
			return err
		}
		for _, o := range offers {
			v.Offers = append(v.Offers, web.OfferLine{Patients: o.Patients, Expires: o.Expires, Claimed: o.Claimed})
		}
		busy, err := s.db.ChairBusy(ctx, v.ChairID, clinic.Interval{Start: v.Start, End: v.End})
		v.Free = !busy
		return err
	})
	if clinic.ErrorCode(err) == clinic.EINVALID {
		err = clinic.Errorf(clinic.ENOTFOUND, "This time can no longer be filled: %s", clinic.ErrorMessage(err))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, web.FillPage(s.meta(r, "Fill a free chair", "/desk"), v))
}

// deskSendOffers offers the slot to the patients ticked.
func (s *Server) deskSendOffers(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	chairID, start, minutes, err := fillSlot(r.PostForm)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The offer form is incomplete: open it again from the fill page."))
		return
	}
	v := web.FillView{ChairID: chairID, Start: start, Minutes: minutes, Expiry: r.PostForm.Get("expires"), Chosen: map[int64]bool{}}
	o := clinic.NewOffer{Start: start, ChairID: chairID, Minutes: minutes}
	for _, raw := range r.PostForm["patient_id"] {
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 {
			o.PatientIDs = append(o.PatientIDs, id)
			v.Chosen[id] = true
		}
	}
	now := s.now()
	switch v.Expiry {
	case "slot":
		o.Expires = start
	case "60", "120", "240":
		n, _ := strconv.Atoi(v.Expiry)
		if o.Expires = now.Add(time.Duration(n) * time.Minute); o.Expires.After(start) {
			o.Expires = start // never after the slot
		}
	default:
		v.Expiry = "120"
	}
	_, err = s.db.CreateOffer(r.Context(), o, now)
	s.answerForm(w, r, err, web.FillURL(chairID, start, minutes)+"&done=offered", func(p refusal) {
		v.Message, v.Fields = p.Message, p.Fields
		s.renderFill(w, r, p.Status, v)
	})
}

// offerLinkPage shows the slot behind a claim link, without signing in.
func (s *Server) offerLinkPage(w http.ResponseWriter, r *http.Request) {
	o, err := s.db.OpenOffer(r.Context(), auth.HashToken(chi.URLParam(r, "token")), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	speak(r, o.Lang)
	s.render(w, r, http.StatusOK, web.OfferLinkPage(s.meta(r, "An infusion time", ""), offerLinkView(o)))
}

// offerLinkAction is the patient taking the slot: action=claim.
func (s *Server) offerLinkAction(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	hash := auth.HashToken(chi.URLParam(r, "token"))
	var o postgres.OfferLink
	var err error
	if r.PostForm.Get("action") == "claim" {
		o, err = s.db.ClaimOffer(r.Context(), hash, s.now())
	} else if o, err = s.db.OpenOffer(r.Context(), hash, s.now()); err == nil {
		err = clinic.Errorf(clinic.EINVALID, "Use the button on the page to take the time.")
	}
	if p, ok := refusalOf(err); ok {
		// A booking rule stands in the way (another infusion that day, a
		// hold): show the offer as it stands, with why.
		cur, oerr := s.db.OpenOffer(r.Context(), hash, s.now())
		if oerr != nil {
			s.fail(w, r, oerr)
			return
		}
		speak(r, cur.Lang)
		view := offerLinkView(cur)
		view.Message = p.Message
		view.CallUs = p.Code == clinic.ECONFLICT || clinic.ErrorCode(err) == clinic.EINVALID && r.PostForm.Get("action") == "claim"
		s.render(w, r, p.Status, web.OfferLinkPage(s.meta(r, "An infusion time", ""), view))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	speak(r, o.Lang)
	status := http.StatusOK
	if o.State != postgres.OfferYours {
		status = http.StatusConflict
	}
	s.render(w, r, status, web.OfferLinkPage(s.meta(r, "An infusion time", ""), offerLinkView(o)))
}

func offerLinkView(o postgres.OfferLink) web.OfferLinkView {
	v := web.OfferLinkView{ClinicName: o.Clinic.Name, ClinicPhone: o.Clinic.Phone, ClinicAddress: o.Clinic.Address,
		State: string(o.State), Start: o.Start, End: o.Start.Add(time.Duration(o.Minutes) * time.Minute), Expires: o.Expires, Loc: o.Loc}
	if o.Next != nil {
		v.Next = &o.Next.Start
	}
	return v
}

// wishInput reads the waitlist form.
func wishInput(r *http.Request) (clinic.Wish, web.WishForm, error) {
	f := web.WishForm{Before: strings.TrimSpace(r.PostFormValue("before")), Part: r.PostFormValue("part_of_day")}
	p := clinic.Problems{}
	before, err := clinic.ParseDate(f.Before)
	if err != nil {
		p.Add("before", "Give the day as YYYY-MM-DD.")
	}
	part, ok := clinic.ParsePartOfDay(f.Part)
	if !ok {
		p.Add("part_of_day", "Choose mornings, afternoons or any time.")
	}
	return clinic.Wish{Before: before, Part: part}, f, p.Err()
}

// deskSetWish puts the patient on the waitlist.
func (s *Server) deskSetWish(w http.ResponseWriter, r *http.Request) {
	id, ok := s.postedID(w, r)
	if !ok {
		return
	}
	wish, f, err := wishInput(r)
	if err == nil {
		_, err = s.db.SetWish(r.Context(), id, wish, s.now())
	}
	s.answerForm(w, r, err, web.PatientURL(id)+"?done=waitlist", func(p refusal) {
		f.Fields = p.Fields
		s.renderPatientFull(w, r, id, p.Status, p.Message, patientExtras{wish: &f})
	})
}

// deskRemoveWish takes the patient off the waitlist.
func (s *Server) deskRemoveWish(w http.ResponseWriter, r *http.Request) {
	id, ok := s.postedID(w, r)
	if !ok {
		return
	}
	if err := s.db.RemoveWish(r.Context(), id, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, web.PatientURL(id)+"?done=waitlist-off", http.StatusSeeOther)
}

// portalBook shows the patient's own booking window and its free times.
func (s *Server) portalBook(w http.ResponseWriter, r *http.Request) {
	s.renderPortalBook(w, r, http.StatusOK, "", nil)
}

var portalBookNotices = notices{
	"waitlist":     "You are on the waitlist. We will send you an offer when a chair comes free.",
	"waitlist-off": "You are off the waitlist.",
	"offers-on":    "You will get offers when a chair comes free.",
	"offers-off":   "You will get no more offers of freed chairs.",
}

func (s *Server) renderPortalBook(w http.ResponseWriter, r *http.Request, status int, message string, wish *web.WishForm) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	v := web.PortalBookView{Message: message, Notice: portalBookNotices.of(r)}
	err := s.read(r, func(r *http.Request) error {
		ctx := r.Context()
		_, loc := s.clinicInfo(ctx)
		v.Loc = loc
		opts, err := s.db.BookingOptions(ctx, id, s.now())
		switch {
		case clinic.ErrorCode(err) == clinic.EINVALID:
			v.Allowed = clinic.ErrorMessage(err)
		case err != nil:
			return err
		default:
			v.Due, v.Window, v.Moving = opts.Due, opts.Window, opts.Booked
			v.Days = bookDays(opts.Slots, loc)
		}
		current, offers, err := s.db.Wish(ctx, id, s.now())
		v.Offers, v.Wish = offers, wishForm(current, "/portal/waitlist", wish)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	title := "Book my next infusion"
	if v.Moving != nil {
		title = "Move my next infusion"
	}
	s.render(w, r, status, web.PortalBookPage(s.meta(r, title, "/portal"), v))
}

// bookDays groups free times by day, one start per time (the first chair).
func bookDays(slots []clinic.Slot, loc *time.Location) []web.PortalBookDay {
	var out []web.PortalBookDay
	for _, sl := range slots {
		d := clinic.DateOf(sl.Start, loc)
		if len(out) == 0 || out[len(out)-1].Date != d {
			out = append(out, web.PortalBookDay{Date: d})
		}
		out[len(out)-1].Starts = append(out[len(out)-1].Starts, sl.Start)
	}
	return out
}

// portalBookTime books the time chosen, or moves the booked next infusion
// to it.
func (s *Server) portalBookTime(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	start, err := time.Parse(time.RFC3339, r.PostForm.Get("start"))
	if err != nil {
		s.renderPortalBook(w, r, http.StatusUnprocessableEntity, "Choose a time from the list.", nil)
		return
	}
	done := "booked-own"
	if raw := r.PostForm.Get("appointment_id"); raw != "" {
		apptID, _ := strconv.ParseInt(raw, 10, 64)
		version, _ := strconv.Atoi(r.PostForm.Get("version"))
		_, err = s.db.MoveOwn(r.Context(), id, apptID, version, start, s.now())
		done = "moved-own"
	} else {
		_, err = s.db.BookOwn(r.Context(), id, start, s.now())
	}
	s.answerForm(w, r, err, "/portal?done="+done, func(p refusal) {
		msg := p.about("start")
		if len(p.Alternatives) > 0 {
			msg += " The times below are free."
		}
		s.renderPortalBook(w, r, p.Status, msg, nil)
	})
}

// portalSetWish puts the signed-in patient on the waitlist.
func (s *Server) portalSetWish(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	wish, f, err := wishInput(r)
	if err == nil {
		_, err = s.db.SetWish(r.Context(), id, wish, s.now())
	}
	s.answerForm(w, r, err, "/portal/book?done=waitlist", func(p refusal) {
		f.Fields = p.Fields
		s.renderPortalBook(w, r, p.Status, "", &f)
	})
}

// portalRemoveWish takes the signed-in patient off the waitlist.
func (s *Server) portalRemoveWish(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	if err := s.db.RemoveWish(r.Context(), id, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/portal/book?done=waitlist-off", http.StatusSeeOther)
}

// portalOffers turns offers of freed chairs on or off.
func (s *Server) portalOffers(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	on := r.PostFormValue("on") == "true"
	if err := s.db.SetOffers(r.Context(), id, on); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/portal/book?done=offers-%s", map[bool]string{true: "on", false: "off"}[on]), http.StatusSeeOther)
}

// freedView reads the desk home's freed slots of the coming week (today
// and tomorrow first) and the fill figures of the last 30 days.
func (s *Server) freedView(r *http.Request, today clinic.Date, loc *time.Location) (web.FreedView, error) {
	v := web.FreedView{Loc: loc}
	slots, err := s.db.FreedSlots(r.Context(), today.AddDays(postgres.FreedDays).At(0, loc), s.now())
	if err != nil {
		return v, err
	}
	for _, f := range slots {
		v.Slots = append(v.Slots, web.FreedSlotLine{ChairID: f.ChairID, ChairName: f.ChairName, Start: f.Start, End: f.End, Best: f.Best})
	}
	rep, err := s.db.FillReport(r.Context(), today.AddDays(-30), today)
	if err != nil {
		return v, err
	}
	if rep.FreedSlots > 0 {
		v.Report = fmt.Sprintf("Last 30 days: %d visits freed %.1f chair-hours; %d were re-filled (%.1f chair-hours).",
			rep.FreedSlots, float64(rep.FreedMinutes)/60, rep.FilledSlots, float64(rep.FilledMinutes)/60)
		if rep.MedianMinutesToFill != nil {
			v.Report += fmt.Sprintf(" Median time to fill: %.0f minutes.", *rep.MedianMinutesToFill)
		}
	}
	return v, nil
}

// portalClaimOffer is the signed-in patient taking an offer made to them.
func (s *Server) portalClaimOffer(w http.ResponseWriter, r *http.Request) {
	o, sent, err := s.claimOwnOffer(w, r)
	if sent {
		return
	}
	if p, ok := refusalOf(err); ok {
		s.renderPortal(w, r, p.Status, p.Message+" Please call the clinic.")
		return
	}
	switch {
	case err != nil:
		s.fail(w, r, err)
	case o.State == postgres.OfferYours:
		http.Redirect(w, r, "/portal?done=offer-claimed", http.StatusSeeOther)
	default:
		s.render(w, r, http.StatusConflict, web.OfferLinkPage(s.meta(r, "An infusion time", "/portal"), offerLinkView(o)))
	}
}

// claimOwnOffer claims the offer {id} for the signed-in patient; sent is
// true when the answer was sent already (the request names no patient or
// no offer).
func (s *Server) claimOwnOffer(w http.ResponseWriter, r *http.Request) (o postgres.OfferLink, sent bool, err error) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return o, true, nil
	}
	offerID, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such offer."))
		return o, true, nil
	}
	o, err = s.db.ClaimOwnOffer(r.Context(), id, offerID, s.now())
	return o, false, err
}
