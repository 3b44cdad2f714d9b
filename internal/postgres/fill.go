package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/jackc/pgx/v5"
)

// Filling freed chairs (issue 16): the candidates for a free slot, offers
// of it whose first claim books it, the waitlist, patients booking their
// own next infusion, and what was freed and re-filled. The rules are in
// clinic/fill.go; freed_slots is kept by triggers (migration 0012).

// FillCandidates ranks the patients who could take a free slot of minutes
// from start (clinic.RankFill). Audited as a read of patient data.
func (db *DB) FillCandidates(ctx context.Context, start time.Time, minutes int, now time.Time) ([]clinic.FillCandidate, error) {
	var out []clinic.FillCandidate
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkFreeSlot(sched, start, minutes, now); err != nil {
			return err
		}
		if out, err = fillCandidates(ctx, tx, sched, start, minutes, now); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "fill.candidates", Entity: "slot",
			After: map[string]any{"start": start.UTC(), "minutes": minutes, "count": len(out)}})
	})
	return out, err
}

// checkFreeSlot refuses a slot that no visit could start in.
func checkFreeSlot(sched clinic.Schedule, start time.Time, minutes int, now time.Time) error {
	p := clinic.Problems{}
	clinic.CheckSlotMinutes(minutes, p)
	if err := p.Err(); err != nil {
		return err
	}
	return sched.Check(start, minutes, now)
}

func fillCandidates(ctx context.Context, tx pgx.Tx, sched clinic.Schedule, start time.Time, minutes int, now time.Time) ([]clinic.FillCandidate, error) {
	loc := sched.Loc
	day, today := clinic.DateOf(start, loc), clinic.DateOf(now, loc)
	facts, err := fillFacts(ctx, tx, day, today)
	if err != nil {
		return nil, err
	}
	if err := loadingMoves(ctx, tx, facts, day, start, loc); err != nil {
		return nil, err
	}
	var except []int64
	for _, f := range facts {
		if f.Booked != nil {
			except = append(except, f.Booked.ID)
		}
		if f.Session != nil {
			except = append(except, f.Session.ID)
		}
	}
	cal, err := calendar(ctx, tx, sched, day, day, except...)
	if err != nil {
		return nil, err
	}
	// A patient who cancelled (or missed) a visit at that time has said
	// they cannot come then.
	rows, err := tx.Query(ctx, `SELECT DISTINCT patient_id FROM appointments WHERE status IN ('cancelled', 'no_show')
		AND tstzrange(starts_at, ends_at, '[)') && tstzrange($1, $2, '[)')`, start, start.Add(time.Duration(minutes)*time.Minute))
	if err != nil {
		return nil, err
	}
	declined, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	for i := range facts {
		f := &facts[i]
		iv := clinic.Interval{Start: start, End: start.Add(time.Duration(f.Minutes) * time.Minute)}
		f.Fits = f.Minutes <= minutes
		f.Free = cal.PatientFree(f.PatientID, iv) && !cal.InfusionOn(f.PatientID, day) && !slices.Contains(declined, f.PatientID)
	}
	return clinic.RankFill(day, clinic.ClockOf(start, loc), today, facts, sched), nil
}

// fillFacts reads the patients who might take a slot on day: maintenance
// patients due by the end of their window with nothing booked, those on
// the waitlist for a later day, and loading patients with a session after
// day; with each one's visit length.
func fillFacts(ctx context.Context, tx pgx.Tx, day, today clinic.Date) ([]clinic.FillFacts, error) {
	rows, err := tx.Query(ctx, `
		SELECT p.id, p.first_name || ' ' || p.last_name, c.phase, cp.due_date, cp.last_infusion_on, c.min_interval_days,
		       c.self_booking_days_before, c.self_booking_days_after, p.fill_offers,
		       CASE WHEN c.phase = 'loading' THEN c.infusion_minutes + c.recovery_minutes
		            ELSE c.maintenance_infusion_minutes + c.maintenance_recovery_minutes END,
		       w.before, w.part_of_day, w.created_at, nv.id, nv.starts_at, nv.version
		FROM courses c
		JOIN patients p ON p.id = c.patient_id
		LEFT JOIN course_plans cp ON cp.course_id = c.id
		LEFT JOIN waitlist w ON w.patient_id = p.id AND w.removed_at IS NULL AND w.before > $2::date
		LEFT JOIN LATERAL (SELECT a.id, a.starts_at, a.version FROM appointments a WHERE `+nextVisitWhere+`
		                   ORDER BY a.starts_at LIMIT 1) nv ON true
		WHERE (c.phase = 'maintenance' AND cp.due_date IS NOT NULL
		       AND ((nv.id IS NULL AND cp.due_date - c.self_booking_days_before <= $1::date) OR w.before > $1::date))
		   OR (c.phase = 'loading' AND EXISTS (SELECT 1 FROM appointments a WHERE a.course_id = c.id
		       AND a.kind = 'loading' AND a.status = 'booked' AND a.series_id IS NOT NULL AND a.local_date > $1::date))
		ORDER BY p.id`, day, today)
	if err != nil {
		return nil, err
	}
	defer rows.Close() // a transaction's first read is a batch's: Close ends it
	var facts []clinic.FillFacts
	for rows.Next() {
		var f clinic.FillFacts
		var before *clinic.Date
		var part *string
		var since *time.Time
		var nextID *int64
		var nextStart *time.Time
		var nextVersion *int
		if err := rows.Scan(&f.PatientID, &f.Name, &f.Phase, &f.Due, &f.Last, &f.MinInterval, &f.SelfBooking.DaysBefore,
			&f.SelfBooking.DaysAfter, &f.Offers, &f.Minutes, &before, &part, &since, &nextID, &nextStart, &nextVersion); err != nil {
			return nil, err
		}
		if before != nil {
			f.Wish = &clinic.Wish{Before: *before, Part: clinic.PartOfDay(*part), Since: *since}
		}
		if nextID != nil {
			f.Booked = &clinic.Appointment{ID: *nextID, PatientID: f.PatientID, Kind: clinic.KindMaintenance,
				Status: clinic.StatusBooked, Start: *nextStart, Version: *nextVersion}
		}
		facts = append(facts, f)
	}
	return facts, rows.Err()
}

// loadingMoves sets, for each loading patient, the first booked session
// after day when moving it to start keeps its series' spacing: three
// queries, whatever the number of series.
func loadingMoves(ctx context.Context, tx pgx.Tx, facts []clinic.FillFacts, day clinic.Date, start time.Time, loc *time.Location) error {
	byPatient := map[int64]*clinic.FillFacts{}
	for i := range facts {
		if facts[i].Phase == clinic.PhaseLoading {
			byPatient[facts[i].PatientID] = &facts[i]
		}
	}
	if len(byPatient) == 0 {
		return nil
	}
	next, err := queryAppointments(ctx, tx, `WHERE id IN (
		SELECT DISTINCT ON (a.patient_id) a.id FROM appointments a JOIN courses c ON c.id = a.course_id AND c.phase = 'loading'
		WHERE a.kind = 'loading' AND a.status = 'booked' AND a.series_id IS NOT NULL AND a.local_date > $1
		ORDER BY a.patient_id, a.starts_at)`, day)
	if err != nil || len(next) == 0 {
		return err
	}
	var series, courses []int64
	for _, a := range next {
		series, courses = append(series, *a.SeriesID), append(courses, *a.CourseID)
	}
	sessions, err := queryAppointments(ctx, tx, `WHERE series_id = ANY ($1) AND status IN ('booked', 'checked_in', 'completed')
		ORDER BY series_id, session_no, starts_at, id`, series)
	if err != nil {
		return err
	}
	ofSeries := map[int64][]clinic.Appointment{}
	for _, a := range sessions {
		ofSeries[*a.SeriesID] = append(ofSeries[*a.SeriesID], a)
	}
	numbers, err := courseNumbers(ctx, tx, courses)
	if err != nil {
		return err
	}
	for _, a := range next {
		f := byPatient[a.PatientID]
		if f != nil && clinic.CheckSessionMove(clinic.PlanOf(numbers[*a.CourseID]), ofSeries[*a.SeriesID], a.ID, start, loc) == nil {
			f.Session = &a
		}
	}
	return nil
}

// courseNumbers reads the numbers of the courses ids, by course.
func courseNumbers(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]clinic.Numbers, error) {
	rows, err := tx.Query(ctx, `SELECT `+courseColumns+` FROM courses WHERE id = ANY ($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]clinic.Numbers{}
	for rows.Next() {
		c, err := scanCourse(rows)
		if err != nil {
			return nil, err
		}
		out[c.ID] = c.Numbers
	}
	return out, rows.Err()
}

// Offer is a freed slot offered to patients, as the desk sees it.
type Offer struct {
	ID            int64
	ChairID       int64
	Start         time.Time
	Minutes       int
	Expires       time.Time
	Patients      []OfferPatient
	ClaimedBy     *int64
	AppointmentID *int64
}

// OfferPatient is one patient an offer went to, and on which channels.
type OfferPatient struct {
	ID       int64
	Name     string
	Channels []clinic.Channel
}

// CreateOffer offers a free slot to patients: each gets a message (kind
// offer) on their channels with a claim link (written when it is sent).
// Every patient must be in maintenance and reachable; the chair must be
// free then. The first claim books it (ClaimOffer).
func (db *DB) CreateOffer(ctx context.Context, o clinic.NewOffer, now time.Time) (Offer, error) {
	if err := o.Check(now); err != nil {
		return Offer{}, err
	}
	out := Offer{ChairID: o.ChairID, Start: o.Start, Minutes: o.Minutes, Expires: o.Expires}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out.Patients = nil
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkFreeSlot(sched, o.Start, o.Minutes, now); err != nil {
			return err
		}
		iv := clinic.Interval{Start: o.Start, End: o.Start.Add(time.Duration(o.Minutes) * time.Minute)}
		if err := chairFreeFor(ctx, tx, o.ChairID, iv, sched); err != nil {
			return err
		}
		if out.Patients, err = offerPatients(ctx, tx, o, sched, now); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO fill_offers (chair_id, starts_at, minutes, expires_at, patient_ids, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, o.ChairID, o.Start, o.Minutes, o.Expires, o.PatientIDs,
			clinic.ActorFrom(ctx).UserID()).Scan(&out.ID); err != nil {
			return err
		}
		var ms []newMessage
		for _, p := range out.Patients {
			for _, ch := range p.Channels {
				ms = append(ms, newMessage{PatientID: p.ID, Kind: clinic.MessageOffer, Channel: ch, At: offerSendTime(ch, now, sched.Loc), OfferID: &out.ID})
			}
		}
		if err := db.enqueueMessages(ctx, tx, ms); err != nil {
			return err
		}
		for _, p := range out.Patients {
			if err := audit(ctx, tx, clinic.AuditEntry{Action: "fill.offer", Entity: "fill_offer", EntityID: &out.ID, PatientID: &p.ID,
				After: map[string]any{"chair_id": o.ChairID, "start": o.Start.UTC(), "minutes": o.Minutes, "expires_at": o.Expires.UTC(), "channels": p.Channels}}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// offerSendTime is when an offer goes out on ch: now, a text past the
// quiet hours.
func offerSendTime(ch clinic.Channel, now time.Time, loc *time.Location) time.Time {
	if ch == clinic.ChannelSMS {
		return clinic.TextSendTime(now, loc)
	}
	return now
}

// chairFreeFor refuses a chair out of service or busy during iv.
func chairFreeFor(ctx context.Context, q querier, chairID int64, iv clinic.Interval, sched clinic.Schedule) error {
	name, active, busy, err := chairState(ctx, q, chairID, iv)
	switch {
	case isNoRows(err) || err == nil && !active:
		return clinic.Invalid(map[string]string{"chair_id": "There is no such chair in service."})
	case err != nil:
		return err
	case busy:
		return &clinic.Error{Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: fmt.Sprintf(
			"%s is no longer free for the whole of %s–%s: someone was booked there meanwhile.", name, sched.TimeText(iv.Start), sched.TimeText(iv.End))}
	}
	return nil
}

// chairState reads a chair's name, whether it is in service, and whether
// an active appointment holds it during iv.
func chairState(ctx context.Context, q querier, chairID int64, iv clinic.Interval) (name string, active, busy bool, err error) {
	err = q.QueryRow(ctx, `
		SELECT c.name, c.active, EXISTS (SELECT 1 FROM appointments a WHERE a.chair_id = c.id
			AND a.status IN ('booked', 'checked_in', 'completed') AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange($2, $3, '[)'))
		FROM chairs c WHERE c.id = $1`, chairID, iv.Start, iv.End).Scan(&name, &active, &busy)
	return name, active, busy, err
}

// ChairBusy reports whether an active appointment holds the chair during iv.
func (db *DB) ChairBusy(ctx context.Context, chairID int64, iv clinic.Interval) (bool, error) {
	_, _, busy, err := chairState(ctx, db.q(ctx), chairID, iv)
	if isNoRows(err) {
		return false, nil
	}
	return busy, mapError(err)
}

// offerPatients reads the patients of an offer and the channels each is
// reached on before it ends, refusing one who is not in maintenance or
// cannot be reached in time.
func offerPatients(ctx context.Context, tx pgx.Tx, o clinic.NewOffer, sched clinic.Schedule, now time.Time) ([]OfferPatient, error) {
	rows, err := tx.Query(ctx, `
		SELECT p.id, p.first_name || ' ' || p.last_name, p.email, p.phone, p.contact_by, p.sms_opted_out_at IS NOT NULL,
		       coalesce(c.phase, '')
		FROM patients p LEFT JOIN courses c ON c.patient_id = p.id AND c.phase <> 'ended'
		WHERE p.id = ANY ($1)`, o.PatientIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := map[int64]OfferPatient{}
	problems := clinic.Problems{}
	for rows.Next() {
		var p OfferPatient
		var to clinic.Recipient
		var phase clinic.Phase
		if err := rows.Scan(&p.ID, &p.Name, &to.Email, &to.Phone, &to.ContactBy, &to.SMSOptedOut, &phase); err != nil {
			return nil, err
		}
		for _, ch := range to.Channels(sched.Settings.Reminders) {
			if offerSendTime(ch, now, sched.Loc).Before(o.Expires) {
				p.Channels = append(p.Channels, ch)
			}
		}
		switch {
		case phase != clinic.PhaseMaintenance:
			problems.Add("patient_ids", p.Name+" is not in maintenance: an offer books a maintenance infusion. Move a loading session from the candidates instead.")
		case len(p.Channels) == 0:
			problems.Add("patient_ids", p.Name+" cannot get a message before the offer ends (no email or text message we may use, or the quiet hours): call them instead.")
		}
		found[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]OfferPatient, 0, len(o.PatientIDs))
	for _, id := range o.PatientIDs {
		p, ok := found[id]
		if !ok {
			problems.Add("patient_ids", fmt.Sprintf("There is no patient %d.", id))
		}
		out = append(out, p)
	}
	return out, problems.Err()
}

// offerNotice writes an offer's message with a fresh claim link; nil when
// the offer was claimed or ended before it went out.
func (db *DB) offerNotice(ctx context.Context, tx pgx.Tx, messageID, offerID, patientID int64, sched clinic.Schedule, l i18n.Locale, baseURL string, now time.Time) (*clinic.OfferNotice, error) {
	n := &clinic.OfferNotice{ClinicName: sched.Settings.Name, ClinicPhone: sched.Settings.Phone, Loc: sched.Loc, Locale: l}
	var claimed bool
	err := tx.QueryRow(ctx, `SELECT starts_at, minutes, expires_at, claimed_by IS NOT NULL FROM fill_offers WHERE id = $1`, offerID).Scan(
		&n.Start, &n.Minutes, &n.Expires, &claimed)
	if err != nil || claimed || !now.Before(n.Expires) {
		return nil, err
	}
	token, hash := auth.NewToken()
	if _, err := tx.Exec(ctx, `INSERT INTO fill_offer_links (token_hash, offer_id, patient_id, message_id) VALUES ($1, $2, $3, $4)`,
		hash, offerID, patientID, messageID); err != nil {
		return nil, err
	}
	n.Link = OfferLinkURL(baseURL, token)
	return n, nil
}

// OfferLinkURL is a claim link's address.
func OfferLinkURL(baseURL, token string) string {
	u, _ := url.JoinPath(baseURL, "o", token)
	return u
}

// OfferState is where an offer stands for the patient whose link it is.
type OfferState string

const (
	OfferOpen  OfferState = "open"  // theirs to take
	OfferYours OfferState = "yours" // they took it
	OfferTaken OfferState = "taken" // someone else took it, or the chair was booked meanwhile
	OfferEnded OfferState = "ended" // it expired
)

// OfferLink is what a claim link's page shows, without signing in.
type OfferLink struct {
	State   OfferState
	Start   time.Time
	Minutes int
	Expires time.Time
	// Next is, for a slot taken or ended, the next free time in the
	// patient's booking window (nil when there is none).
	Next *clinic.Slot
	// Booked is, after a claim that booked the slot, the visit.
	Booked *clinic.Appointment
	Clinic clinic.Settings
	Loc    *time.Location
	Lang   i18n.Lang // the patient's language, for the page
}

var errOfferLinkInvalid = clinic.Errorf(clinic.ENOTFOUND,
	"This link is not valid: the address may be incomplete. Please call the clinic.")

type offerRow struct {
	offerID, patientID, chairID int64
	claimedBy                   *int64
}

// offerKey finds one patient's offer: by a claim link's token hash, or
// by the offer's id for the signed-in patient it was made to.
type offerKey struct {
	hash      []byte
	offerID   int64
	patientID int64
}

// byLink is the offer behind a claim link.
func byLink(hash []byte) offerKey { return offerKey{hash: hash} }

// ownOffer is offer id, made to the patient.
func ownOffer(patientID, offerID int64) offerKey {
	return offerKey{offerID: offerID, patientID: patientID}
}

func (k offerKey) query(lock bool) (string, []any, error) {
	q := `SELECT l.offer_id, l.patient_id, o.chair_id, o.starts_at, o.minutes, o.expires_at, o.claimed_by
		FROM fill_offer_links l JOIN fill_offers o ON o.id = l.offer_id WHERE l.token_hash = $1`
	args, notFound := []any{k.hash}, errOfferLinkInvalid
	if k.hash == nil {
		q = `SELECT o.id, $2::bigint, o.chair_id, o.starts_at, o.minutes, o.expires_at, o.claimed_by
			FROM fill_offers o WHERE o.id = $1 AND o.patient_ids @> ARRAY[$2::bigint]`
		args, notFound = []any{k.offerID, k.patientID}, clinic.Errorf(clinic.ENOTFOUND, "There is no such offer.")
	}
	if lock {
		q += ` FOR UPDATE OF o`
	}
	return q, args, notFound
}

// offerLink loads one patient's offer, locking it to claim.
func (db *DB) offerLink(ctx context.Context, tx pgx.Tx, key offerKey, now time.Time, lock bool) (OfferLink, offerRow, clinic.Schedule, error) {
	var v OfferLink
	var r offerRow
	q, args, notFound := key.query(lock)
	err := tx.QueryRow(ctx, q, args...).Scan(&r.offerID, &r.patientID, &r.chairID, &v.Start, &v.Minutes, &v.Expires, &r.claimedBy)
	if isNoRows(err) {
		return v, r, clinic.Schedule{}, notFound
	}
	if err != nil {
		return v, r, clinic.Schedule{}, err
	}
	if err := tx.QueryRow(ctx, `SELECT language FROM patients WHERE id = $1`, r.patientID).Scan(&v.Lang); err != nil {
		return v, r, clinic.Schedule{}, err
	}
	sched, err := db.schedule(ctx, tx)
	if err != nil {
		return v, r, sched, err
	}
	v.Clinic, v.Loc = sched.Settings, sched.Loc
	switch {
	case r.claimedBy != nil && *r.claimedBy == r.patientID:
		v.State = OfferYours
	case r.claimedBy != nil:
		v.State = OfferTaken
	case !now.Before(v.Expires):
		v.State = OfferEnded
	default:
		v.State = OfferOpen
	}
	if v.State == OfferTaken || v.State == OfferEnded {
		v.Next = db.nextInWindow(ctx, tx, sched, r.patientID, now)
	}
	return v, r, sched, nil
}

// nextInWindow is the first free time in the patient's booking window, or
// nil (no window, or nothing free in it).
func (db *DB) nextInWindow(ctx context.Context, tx pgx.Tx, sched clinic.Schedule, patientID int64, now time.Time) *clinic.Slot {
	sp, err := tx.Begin(ctx) // a patient without a window is no error here
	if err != nil {
		return nil
	}
	opts, err := bookingOptions(ctx, tx, sched, patientID, now)
	if err != nil {
		sp.Rollback(ctx)
		return nil
	}
	if sp.Commit(ctx) != nil || len(opts.Slots) == 0 {
		return nil
	}
	return &opts.Slots[0]
}

// OpenOffer shows the offer behind a claim link. Audited as a read.
func (db *DB) OpenOffer(ctx context.Context, hash []byte, now time.Time) (OfferLink, error) {
	var v OfferLink
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var r offerRow
		var err error
		if v, r, _, err = db.offerLink(ctx, tx, byLink(hash), now, false); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "fill_offer.open", Entity: "fill_offer", EntityID: &r.offerID, PatientID: &r.patientID})
	})
	return v, err
}

// ClaimOffer is the patient taking an offered slot. The first claim books
// it — a new maintenance visit, or their booked next one moved there —
// under every booking rule, in one transaction with the offer marked
// taken; the offer's row lock makes concurrent claims queue, so two never
// both book. A later claim, or one after the desk booked the chair
// meanwhile, finds it taken and is shown the next free time in the
// patient's window instead.
func (db *DB) ClaimOffer(ctx context.Context, hash []byte, now time.Time) (OfferLink, error) {
	return db.claim(ctx, byLink(hash), now)
}

// ClaimOwnOffer is ClaimOffer from the portal: the signed-in patient
// taking an offer made to them (another patient's is "not found").
func (db *DB) ClaimOwnOffer(ctx context.Context, patientID, offerID int64, now time.Time) (OfferLink, error) {
	return db.claim(ctx, ownOffer(patientID, offerID), now)
}

func (db *DB) claim(ctx context.Context, key offerKey, now time.Time) (OfferLink, error) {
	var v OfferLink
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var r offerRow
		var sched clinic.Schedule
		var err error
		if v, r, sched, err = db.offerLink(ctx, tx, key, now, true); err != nil || v.State != OfferOpen {
			if err == nil {
				err = audit(ctx, tx, clinic.AuditEntry{Action: "fill_offer.claim_late", Entity: "fill_offer", EntityID: &r.offerID,
					PatientID: &r.patientID, After: map[string]any{"state": v.State}})
			}
			return err
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		a, err := db.placeClaim(ctx, tx, r, v.Start, now)
		if clinic.ErrorReason(err) == clinic.ReasonSlotTaken {
			if err := sp.Rollback(ctx); err != nil {
				return err
			}
			v.State, v.Next = OfferTaken, db.nextInWindow(ctx, tx, sched, r.patientID, now)
			return audit(ctx, tx, clinic.AuditEntry{Action: "fill_offer.claim_late", Entity: "fill_offer", EntityID: &r.offerID,
				PatientID: &r.patientID, After: map[string]any{"state": v.State, "why": clinic.ErrorMessage(err)}})
		}
		if err != nil {
			return err
		}
		if err := sp.Commit(ctx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE fill_offers SET claimed_by = $2, appointment_id = $3, claimed_at = $4 WHERE id = $1`,
			r.offerID, r.patientID, a.ID, now); err != nil {
			return err
		}
		// The others' offers not yet sent would only disappoint.
		if _, err := tx.Exec(ctx, `UPDATE messages SET status = 'dropped', error = 'Another patient took the slot first.', link = NULL
			WHERE offer_id = $1 AND status = 'scheduled'`, r.offerID); err != nil {
			return err
		}
		v.State, v.Booked = OfferYours, &a
		return audit(ctx, tx, clinic.AuditEntry{Action: "fill_offer.claim", Entity: "fill_offer", EntityID: &r.offerID,
			PatientID: &r.patientID, After: map[string]any{"appointment_id": a.ID}})
	})
	return v, err
}

// PatientOffer is an offer open to the patient, as the portal shows it.
type PatientOffer struct {
	ID      int64
	Start   time.Time
	Minutes int
	Expires time.Time
}

// PatientOffers lists the offers open to the patient: not taken, not
// ended, soonest first.
func (db *DB) PatientOffers(ctx context.Context, patientID int64, now time.Time) ([]PatientOffer, error) {
	rows, err := db.q(ctx).Query(ctx, `SELECT id, starts_at, minutes, expires_at FROM fill_offers
		WHERE patient_ids @> ARRAY[$1::bigint] AND claimed_by IS NULL AND expires_at > $2 ORDER BY starts_at, id`, patientID, now)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PatientOffer, error) {
		var o PatientOffer
		return o, r.Scan(&o.ID, &o.Start, &o.Minutes, &o.Expires)
	})
	return out, mapError(err)
}

// placeClaim books the offered slot for the patient, or moves their
// booked next maintenance visit there.
func (db *DB) placeClaim(ctx context.Context, tx pgx.Tx, r offerRow, start time.Time, now time.Time) (clinic.Appointment, error) {
	next, err := nextMaintenance(ctx, tx, r.patientID)
	if err != nil {
		return clinic.Appointment{}, err
	}
	if next != nil {
		return db.RescheduleVia(ctx, next.ID, 0, start, r.chairID, clinic.PlacedByOffer, now)
	}
	a, _, err := db.book(ctx, tx, clinic.Booking{PatientID: r.patientID, Kind: clinic.KindMaintenance, Start: start,
		ChairID: r.chairID, Via: clinic.PlacedByOffer}, nil, now)
	return a, mapError(err)
}

// nextMaintenance is the patient's booked next maintenance infusion, or nil.
func nextMaintenance(ctx context.Context, q querier, patientID int64) (*clinic.Appointment, error) {
	next, err := queryAppointments(ctx, q, nextVisitOf, patientID)
	if err != nil || len(next) == 0 {
		return nil, err
	}
	return &next[0], nil
}

// BookingOptions are the times a maintenance patient may book (or move)
// their own next infusion to.
type BookingOptions struct {
	Due    clinic.Date
	Window clinic.Window
	Slots  []clinic.Slot // each on the first free chair, in time order
	// Booked is their next maintenance visit, which a time chosen moves.
	Booked *clinic.Appointment
}

// BookingOptions reads the patient's own booking window and the free
// times in it. A patient not in maintenance, or without a plan, gets
// EINVALID saying so. Audited as a read.
func (db *DB) BookingOptions(ctx context.Context, patientID int64, now time.Time) (BookingOptions, error) {
	var out BookingOptions
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if out, err = bookingOptions(ctx, tx, sched, patientID, now); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "self_booking.options", Entity: "patient", EntityID: &patientID, PatientID: &patientID,
			After: map[string]any{"from": out.Window.From, "to": out.Window.To, "slots": len(out.Slots)}})
	})
	return out, err
}

// errNoSelfBooking is the refusal for a patient who cannot book their own.
func errNoSelfBooking(msg string) error { return &clinic.Error{Code: clinic.EINVALID, Message: msg} }

func bookingOptions(ctx context.Context, tx pgx.Tx, sched clinic.Schedule, patientID int64, now time.Time) (BookingOptions, error) {
	var out BookingOptions
	course, err := courseOfPatient(ctx, tx, patientID)
	if err != nil {
		return out, err
	}
	if course == nil || course.Phase != clinic.PhaseMaintenance {
		return out, errNoSelfBooking("You can book your own infusions once you are in maintenance; until then the front desk books them with you.")
	}
	var due, last *clinic.Date
	err = tx.QueryRow(ctx, `SELECT due_date, last_infusion_on FROM course_plans WHERE course_id = $1`, course.ID).Scan(&due, &last)
	if err != nil && !isNoRows(err) {
		return out, err
	}
	if due == nil || last == nil {
		return out, errNoSelfBooking("Your care team has not planned your next infusion yet. Please call the clinic.")
	}
	if out.Booked, err = nextMaintenance(ctx, tx, patientID); err != nil {
		return out, err
	}
	today := clinic.DateOf(now, sched.Loc)
	out.Due = *due
	out.Window = clinic.BookingWindow(*due, *last, course.Numbers.MinIntervalDays, course.SelfBooking, today)
	if _, horizon := sched.Horizon(now); out.Window.To.After(horizon) {
		out.Window.To = horizon
	}
	var except []int64
	if out.Booked != nil {
		except = append(except, out.Booked.ID)
	}
	cal, err := nursedCalendar(ctx, tx, sched, out.Window.From, out.Window.To, except...)
	if err != nil {
		return out, err
	}
	minutes, err := clinic.Occupancy(clinic.KindMaintenance, course, nil)
	if err != nil {
		return out, err
	}
	out.Slots = cal.OpenSlots(out.Window.From, out.Window.To, minutes, patientID, now)
	return out, nil
}

// ownOptions is the clinic's schedule and the patient's booking options,
// inside tx.
func (db *DB) ownOptions(ctx context.Context, tx pgx.Tx, patientID int64, now time.Time) (clinic.Schedule, BookingOptions, error) {
	sched, err := db.schedule(ctx, tx)
	if err != nil {
		return sched, BookingOptions{}, err
	}
	opts, err := bookingOptions(ctx, tx, sched, patientID, now)
	return sched, opts, err
}

// checkOwnStart refuses a start outside the patient's window.
func (o BookingOptions) checkOwnStart(start time.Time, sched clinic.Schedule) error {
	if d := clinic.DateOf(start, sched.Loc); !o.Window.Contains(d) {
		return clinic.Invalid(map[string]string{"start": fmt.Sprintf(
			"%s is outside your booking window (%s): your next infusion is due %s. For another day, please call the clinic.",
			sched.DayText(d, i18n.Short), o.Window.Text(sched.Settings.Style), sched.DayText(o.Due, i18n.Short))})
	}
	return nil
}

// BookOwn books the patient's own next maintenance infusion at start,
// inside their window, on the first free chair.
func (db *DB) BookOwn(ctx context.Context, patientID int64, start time.Time, now time.Time) (clinic.Appointment, error) {
	var a clinic.Appointment
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, opts, err := db.ownOptions(ctx, tx, patientID, now)
		if err != nil {
			return err
		}
		if opts.Booked != nil {
			return errNoSelfBooking(fmt.Sprintf("Your next infusion is booked already, on %s: move it instead.",
				sched.DayText(clinic.DateOf(opts.Booked.Start, sched.Loc), i18n.Short)+" at "+sched.TimeText(opts.Booked.Start)))
		}
		if err := opts.checkOwnStart(start, sched); err != nil {
			return err
		}
		a, _, err = db.book(ctx, tx, clinic.Booking{PatientID: patientID, Kind: clinic.KindMaintenance, Start: start, Via: clinic.PlacedBySelf}, nil, now)
		return err
	})
	return a, db.slotTakenAlternatives(ctx, err, start, patientID, now)
}

// MoveOwn moves the patient's own booked next maintenance infusion to
// start, inside their window. A loading session is the desk's to move.
func (db *DB) MoveOwn(ctx context.Context, patientID, id int64, version int, start time.Time, now time.Time) (clinic.Appointment, error) {
	var a clinic.Appointment
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		owner, err := patientOfAppointment(ctx, tx, id)
		if err != nil || owner != patientID {
			return cmpErr(err, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
		}
		p := clinic.Problems{}
		if start.IsZero() {
			p.Add("start", "Give the new start as an RFC 3339 time, e.g. 2026-03-09T09:00:00-07:00.")
		}
		if version < 1 {
			p.Add("version", "Give the version of the appointment you saw.")
		}
		if err := p.Err(); err != nil {
			return err
		}
		sched, opts, err := db.ownOptions(ctx, tx, patientID, now)
		if err != nil {
			return err
		}
		if opts.Booked == nil || opts.Booked.ID != id {
			cur, err := queryAppointments(ctx, tx, `WHERE id = $1`, id)
			if err != nil {
				return err
			}
			if len(cur) == 1 && cur[0].Kind == clinic.KindLoading {
				return errNoSelfBooking("A loading session is moved by the front desk, since the sessions after it may move too: send them a request.")
			}
			return errNoSelfBooking("Only your next maintenance infusion can be moved here; for this visit, please send the front desk a request.")
		}
		if err := opts.checkOwnStart(start, sched); err != nil {
			return err
		}
		a, err = db.RescheduleVia(ctx, id, version, start, 0, clinic.PlacedBySelf, now)
		return err
	})
	return a, db.slotTakenAlternatives(ctx, err, start, patientID, now)
}

// cmpErr is err, else fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// slotTakenAlternatives adds free times to a refusal because the slot was
// taken meanwhile.
func (db *DB) slotTakenAlternatives(ctx context.Context, err error, start time.Time, patientID int64, now time.Time) error {
	err = mapError(err)
	var e *clinic.Error
	if !errors.As(err, &e) || e.Reason != clinic.ReasonSlotTaken || len(e.Alternatives) > 0 {
		return err
	}
	opts, oerr := db.BookingOptions(ctx, patientID, now)
	if oerr != nil {
		return err
	}
	alts := slices.DeleteFunc(slices.Clone(opts.Slots), func(s clinic.Slot) bool { return s.Start.Equal(start) })
	return withAlternatives(err, alts[:min(len(alts), alternativesOffered)])
}

// SetWish puts the patient on the waitlist (replacing their earlier wish).
func (db *DB) SetWish(ctx context.Context, patientID int64, w clinic.Wish, now time.Time) (clinic.Wish, error) {
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := clinic.CheckWish(w, clinic.DateOf(now, sched.Loc)); err != nil {
			return err
		}
		if err := patientExists(ctx, tx, patientID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE waitlist SET removed_at = $2 WHERE patient_id = $1 AND removed_at IS NULL`, patientID, now); err != nil {
			return err
		}
		w.Since = now
		if _, err := tx.Exec(ctx, `INSERT INTO waitlist (patient_id, before, part_of_day, created_by, created_at) VALUES ($1, $2, $3, $4, $5)`,
			patientID, w.Before, w.Part, clinic.ActorFrom(ctx).UserID(), now); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "waitlist.set", Entity: "patient", EntityID: &patientID, PatientID: &patientID, After: w})
	})
	return w, err
}

// RemoveWish takes the patient off the waitlist.
func (db *DB) RemoveWish(ctx context.Context, patientID int64, now time.Time) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE waitlist SET removed_at = $2 WHERE patient_id = $1 AND removed_at IS NULL`, patientID, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "waitlist.remove", Entity: "patient", EntityID: &patientID, PatientID: &patientID})
	})
}

// Wish is the patient's open waitlist wish, nil when none (or lapsed).
func (db *DB) Wish(ctx context.Context, patientID int64, now time.Time) (*clinic.Wish, bool, error) {
	var out *clinic.Wish
	var offers bool
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		var w clinic.Wish
		var before *clinic.Date
		var part *string
		var since *time.Time
		err = tx.QueryRow(ctx, `SELECT p.fill_offers, w.before, w.part_of_day, w.created_at FROM patients p
			LEFT JOIN waitlist w ON w.patient_id = p.id AND w.removed_at IS NULL AND w.before > $2::date
			WHERE p.id = $1`, patientID, clinic.DateOf(now, sched.Loc)).Scan(&offers, &before, &part, &since)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
		}
		if err != nil || before == nil {
			return err
		}
		w.Before, w.Part, w.Since = *before, clinic.PartOfDay(*part), *since
		out = &w
		return nil
	})
	return out, offers, err
}

// SetOffers records whether the patient wants offers of freed chairs.
func (db *DB) SetOffers(ctx context.Context, patientID int64, on bool) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE patients SET fill_offers = $2 WHERE id = $1`, patientID, on); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "patient.fill_offers", Entity: "patient", EntityID: &patientID, PatientID: &patientID,
			After: map[string]any{"fill_offers": on}})
	})
}

// FreedDays is how many days from today the desk's home page lists freed
// chairs for (today included).
const FreedDays = 7

// FreedSlot is a chair freed by a cancellation or no-show and not filled
// since, with the best candidate for it.
type FreedSlot struct {
	AppointmentID int64 // the visit that freed it
	ChairID       int64
	ChairName     string
	Start, End    time.Time
	Best          *clinic.FillCandidate
}

// Minutes is the slot's length.
func (f FreedSlot) Minutes() int { return int(f.End.Sub(f.Start) / time.Minute) }

// FreedSlots lists the freed slots starting from now until until that are
// still free, each with its best candidate. Audited as a read.
func (db *DB) FreedSlots(ctx context.Context, until, now time.Time) ([]FreedSlot, error) {
	var out []FreedSlot
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		// Free again is what counts, not filled_by: a visit that filled a
		// freed chair may have been cancelled since. One row per chair and
		// time, however often it was freed.
		rows, err := tx.Query(ctx, `
			SELECT appointment_id, chair_id, name, starts_at, ends_at FROM (
				SELECT DISTINCT ON (f.chair_id, f.starts_at) f.appointment_id, f.chair_id, c.name, c.position, f.starts_at, f.ends_at
				FROM freed_slots f JOIN chairs c ON c.id = f.chair_id
				WHERE f.starts_at > $1 AND f.starts_at < $2 AND c.active
				  AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.chair_id = f.chair_id AND a.status IN ('booked', 'checked_in', 'completed')
				                  AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(f.starts_at, f.ends_at, '[)'))
				ORDER BY f.chair_id, f.starts_at, f.freed_at DESC) s
			ORDER BY starts_at, position LIMIT 20`, now, until)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (FreedSlot, error) {
			var f FreedSlot
			return f, r.Scan(&f.AppointmentID, &f.ChairID, &f.ChairName, &f.Start, &f.End)
		})
		if err != nil {
			return err
		}
		for i := range out {
			if checkFreeSlot(sched, out[i].Start, out[i].Minutes(), now) != nil {
				continue // no longer inside the hours
			}
			cands, err := fillCandidates(ctx, tx, sched, out[i].Start, out[i].Minutes(), now)
			if err != nil {
				return err
			}
			if len(cands) > 0 {
				out[i].Best = &cands[0]
			}
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "fill.freed_slots", Entity: "slot", After: map[string]any{"count": len(out)}})
	})
	return out, err
}

// FillReport is what was freed and re-filled in a period (clinic-local
// dates of the freed slots, inclusive).
type FillReport struct {
	From, To            clinic.Date
	FreedSlots          int
	FreedMinutes        int
	FilledSlots         int
	FilledMinutes       int
	MedianMinutesToFill *float64 // nil when nothing was filled
	ByChannel           map[clinic.Placement]FillChannel
}

// FillChannel is what one channel re-filled.
type FillChannel struct {
	Slots   int `json:"slots"`
	Minutes int `json:"minutes"`
}

// FillReport reports freed chair time and how it was re-filled.
func (db *DB) FillReport(ctx context.Context, from, to clinic.Date) (FillReport, error) {
	out := FillReport{From: from, To: to, ByChannel: map[clinic.Placement]FillChannel{}}
	if to.Before(from) {
		return out, clinic.Invalid(map[string]string{"to": "The end of the period cannot be before its start."})
	}
	if to.DaysSince(from) > 366 {
		return out, clinic.Invalid(map[string]string{"to": "Report on at most a year at a time."})
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		lo, hi := from.At(0, sched.Loc), to.AddDays(1).At(0, sched.Loc)
		err = tx.QueryRow(ctx, `
			SELECT count(*), coalesce(sum(ceil(extract(epoch FROM ends_at - starts_at) / 60)), 0)::int,
			       count(filled_by), coalesce(sum(filled_minutes), 0)::int,
			       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM filled_at - freed_at) / 60) FILTER (WHERE filled_by IS NOT NULL)
			FROM freed_slots WHERE starts_at >= $1 AND starts_at < $2`, lo, hi).Scan(
			&out.FreedSlots, &out.FreedMinutes, &out.FilledSlots, &out.FilledMinutes, &out.MedianMinutesToFill)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT channel, count(*), sum(filled_minutes)::int FROM freed_slots
			WHERE starts_at >= $1 AND starts_at < $2 AND filled_by IS NOT NULL GROUP BY channel`, lo, hi)
		if err != nil {
			return err
		}
		var ch clinic.Placement
		var c FillChannel
		_, err = pgx.ForEachRow(rows, []any{&ch, &c.Slots, &c.Minutes}, func() error {
			out.ByChannel[ch] = c
			return nil
		})
		return err
	})
	return out, err
}

// SlotOffer is an offer already made for a slot, as its fill page lists it.
type SlotOffer struct {
	Patients string // their names
	Expires  time.Time
	Claimed  string // the patient who took it; "" while open
}

// SlotOffers lists the offers made for the chair at start, newest first.
func (db *DB) SlotOffers(ctx context.Context, chairID int64, start time.Time) ([]SlotOffer, error) {
	rows, err := db.q(ctx).Query(ctx, `
		SELECT (SELECT string_agg(p.first_name || ' ' || p.last_name, ', ' ORDER BY p.last_name) FROM patients p WHERE p.id = ANY (o.patient_ids)),
		       o.expires_at, coalesce(c.first_name || ' ' || c.last_name, '')
		FROM fill_offers o LEFT JOIN patients c ON c.id = o.claimed_by
		WHERE o.chair_id = $1 AND o.starts_at = $2 ORDER BY o.id DESC`, chairID, start)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SlotOffer, error) {
		var o SlotOffer
		return o, r.Scan(&o.Patients, &o.Expires, &o.Claimed)
	})
	return out, mapError(err)
}
