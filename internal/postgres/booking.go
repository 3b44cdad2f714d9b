package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// MaxIdempotencyKey is the longest idempotency key a client may send.
const MaxIdempotencyKey = 64

// alternativesOffered is how many free slots a refusal offers instead.
const alternativesOffered = 5

// Book books one appointment: on an open day, inside the opening hours, on
// the grid, not in the past, in a chair and at a time neither the chair
// nor the patient is busy (clinic.Booking.Appointment and the safety
// gates decide). replayed is true when the idempotency key had already
// booked it; the appointment is then returned as it stands.
//
// The database judges overlaps: two desks booking the same chair at once
// both pass every check here, and the exclusion constraint lets exactly one
// insert through. The other gets ECONFLICT with alternatives.
func (db *DB) Book(ctx context.Context, b clinic.Booking, now time.Time) (a clinic.Appointment, replayed bool, err error) {
	key, err := scopedKey(ctx, b.IdempotencyKey)
	if err != nil {
		return a, false, err
	}
	err = db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		a, replayed, err = db.book(ctx, tx, b, key, now)
		return err
	})
	if err != nil && key != nil && !replayed {
		// A retry that raced the first attempt, or a commit reported as
		// failed after it happened (pgx #2110): the key tells.
		if prev, found, e := appointmentByKey(ctx, db.q(ctx), *key); e == nil && found && b.Replays(prev) == nil {
			return prev, true, nil
		}
	}
	if clinic.ErrorReason(mapError(err)) == clinic.ReasonSlotTaken && a.Minutes() > 0 {
		err = withAlternatives(err, db.alternatives(ctx, b.Kind, b.Start, a.Minutes(), b.PatientID, now, alternativesOffered))
	}
	return a, replayed, mapError(err)
}

// book is Book inside its transaction: the key's earlier booking, else
// load → decide → place in the first chair free → messages → audit.
func (db *DB) book(ctx context.Context, tx pgx.Tx, b clinic.Booking, key *string, now time.Time) (clinic.Appointment, bool, error) {
	if key != nil {
		prev, found, err := appointmentByKey(ctx, tx, *key)
		if err != nil {
			return prev, false, err
		}
		if found {
			return prev, true, b.Replays(prev)
		}
	}
	if err := lockPatient(ctx, tx, b.PatientID); err != nil {
		return clinic.Appointment{}, false, err
	}
	sched, err := db.schedule(ctx, tx)
	if err != nil {
		return clinic.Appointment{}, false, err
	}
	course, err := patientCourse(ctx, tx, b.PatientID)
	if err != nil {
		return clinic.Appointment{}, false, err
	}
	a, err := b.Appointment(course, sched, now)
	if err != nil {
		return a, false, err
	}
	if err := infusionGates(ctx, tx, b.PatientID, clinic.NewVisit{Kind: b.Kind, Start: b.Start, Additional: a.AdditionalReason}, sched); err != nil {
		return a, false, err
	}
	if err := lockDays(ctx, tx, sched.Loc, a.Start); err != nil {
		return a, false, err
	}
	iv := clinic.Interval{Start: a.Start, End: a.End}
	chairs, err := candidateChairs(ctx, tx, b.ChairID, 0, 0, iv, sched)
	if err != nil {
		return a, false, err
	}
	if a.Nurse, err = nurseFor(ctx, tx, sched, a.Kind, iv, 0, b.NurseID); err != nil {
		return a, false, err
	}
	err = tryChairs(ctx, tx, chairs, func(tx pgx.Tx, chair int64) error {
		a.ChairID = chair
		a.ID, err = insertAppointment(ctx, tx, a, "", key)
		return err
	})
	if err != nil {
		return a, false, err
	}
	if err := db.notifyVisits(ctx, tx, clinic.MessageConfirmation, []clinic.Appointment{a}, nil, sched, now); err != nil {
		return a, false, err
	}
	return a, false, audit(ctx, tx, clinic.AuditEntry{Action: "appointment.book", Entity: "appointment",
		EntityID: &a.ID, PatientID: &a.PatientID, After: a})
}

// scopedKey prefixes the client's key with the acting user's id, so that
// two clients choosing the same key never see each other's bookings.
func scopedKey(ctx context.Context, key string) (*string, error) {
	if key == "" {
		return nil, nil
	}
	if len(key) > MaxIdempotencyKey {
		return nil, clinic.Invalid(map[string]string{"idempotency_key": fmt.Sprintf("Use an idempotency key of at most %d characters.", MaxIdempotencyKey)})
	}
	user := "system"
	if id := clinic.ActorFrom(ctx).UserID(); id != nil {
		user = strconv.FormatInt(*id, 10)
	}
	scoped := user + ":" + key
	return &scoped, nil
}

func appointmentByKey(ctx context.Context, q querier, key string) (clinic.Appointment, bool, error) {
	a, err := scanAppointment(q.QueryRow(ctx, `SELECT `+appointmentColumns+` FROM appointments WHERE idempotency_key = $1`, key))
	if isNoRows(err) {
		return a, false, nil
	}
	return a, err == nil, err
}

// candidateChairs lists the chairs to try for iv, in the order to try them:
// the one asked for; else keep (the appointment's current chair) first when
// it is free, then every other active chair free at the time, in chair
// order. except is an appointment to leave out (the one being moved).
func candidateChairs(ctx context.Context, tx pgx.Tx, asked, keep, except int64, iv clinic.Interval, sched clinic.Schedule) ([]int64, error) {
	if asked != 0 {
		var active bool
		err := tx.QueryRow(ctx, `SELECT active FROM chairs WHERE id = $1`, asked).Scan(&active)
		if isNoRows(err) || err == nil && !active {
			return nil, clinic.Invalid(map[string]string{"chair_id": "There is no such chair in service."})
		}
		return []int64{asked}, err
	}
	rows, err := tx.Query(ctx, `
		SELECT c.id FROM chairs c
		WHERE c.active AND NOT EXISTS (
			SELECT 1 FROM appointments a
			WHERE a.chair_id = c.id AND a.id <> $3 AND a.status IN ('booked', 'checked_in', 'completed')
			  AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange($1, $2, '[)'))
		ORDER BY c.id <> $4, c.position, c.id`, iv.Start, iv.End, except, keep)
	if err != nil {
		return nil, err
	}
	chairs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err == nil && len(chairs) == 0 {
		return nil, &clinic.Error{Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: fmt.Sprintf(
			"No chair is free for the whole of %s–%s.", sched.TimeText(iv.Start), sched.TimeText(iv.End))}
	}
	return chairs, err
}

// tryChairs runs place for each chair in turn, each in a savepoint, until
// one is not refused because another appointment took that chair meanwhile.
func tryChairs(ctx context.Context, tx pgx.Tx, chairs []int64, place func(tx pgx.Tx, chair int64) error) error {
	if len(chairs) == 1 {
		// The one chair: its failure is the transaction's, no savepoint
		// to go back to (two round trips fewer).
		return place(tx, chairs[0])
	}
	for i, chair := range chairs {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		err = place(sp, chair)
		if err == nil {
			return sp.Commit(ctx)
		}
		if rerr := sp.Rollback(ctx); rerr != nil {
			return rerr
		}
		var pgErr *pgconn.PgError
		if i < len(chairs)-1 && errors.As(err, &pgErr) && pgErr.ConstraintName == "appointments_chair_free" {
			continue
		}
		return err
	}
	return &clinic.Error{Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: "No chair is free at that time."}
}

func withAlternatives(err error, slots []clinic.Slot) error {
	var e *clinic.Error
	if !errors.As(mapError(err), &e) {
		return err
	}
	c := *e
	c.Alternatives = slots
	return &c
}

// Reschedule moves an appointment to start, keeping its length: to the
// chair asked for, else its own chair when free, else the first free one.
// version is the one the person saw; a change since is refused.
func (db *DB) Reschedule(ctx context.Context, id int64, version int, start time.Time, chairID int64, now time.Time) (clinic.Appointment, error) {
	return db.RescheduleVia(ctx, id, version, start, chairID, clinic.PlacedByDesk, now)
}

// RescheduleVia is Reschedule by someone other than the desk: a patient
// in the portal, or claiming an offer.
func (db *DB) RescheduleVia(ctx context.Context, id int64, version int, start time.Time, chairID int64, via clinic.Placement, now time.Time) (clinic.Appointment, error) {
	var minutes int
	var patientID int64
	var kind clinic.AppointmentKind
	a, err := db.change(ctx, id, version, clinic.ActReschedule, now, "appointment.reschedule",
		func(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, sched clinic.Schedule) error {
			minutes, patientID, kind = a.Minutes(), a.PatientID, a.Kind
			if err := sched.Check(start, minutes, now); err != nil {
				return err
			}
			if err := keepsSeriesSpacing(ctx, tx, *a, start, sched); err != nil {
				return err
			}
			if err := infusionGates(ctx, tx, a.PatientID, clinic.NewVisit{ID: a.ID, Kind: a.Kind, Start: start, Additional: a.AdditionalReason}, sched); err != nil {
				return err
			}
			iv := clinic.Interval{Start: start, End: start.Add(time.Duration(minutes) * time.Minute)}
			if err := lockDays(ctx, tx, sched.Loc, start); err != nil {
				return err
			}
			chairs, err := candidateChairs(ctx, tx, chairID, a.ChairID, a.ID, iv, sched)
			if err != nil {
				return err
			}
			nurse, err := nurseFor(ctx, tx, sched, a.Kind, iv, a.ID, 0)
			if err != nil {
				return err
			}
			was := *a
			err = tryChairs(ctx, tx, chairs, func(tx pgx.Tx, chair int64) error {
				_, err := tx.Exec(ctx, `
					UPDATE appointments SET starts_at = $2, ends_at = $3, chair_id = $4,
						nurse_id = nullif($5, 0), nurse_place = nullif($6, 0), nurse_window = `+nurseWindow("$5", "$2")+`,
						placed_by = $7, version = version + 1, updated_at = now()
					WHERE id = $1`, a.ID, iv.Start, iv.End, chair, nurse.NurseID, nurse.Place, string(via))
				a.Start, a.End, a.ChairID, a.Nurse, a.PlacedBy = iv.Start, iv.End, chair, nurse, via
				if via == clinic.PlacedByDesk {
					a.PlacedBy = ""
				}
				return err
			})
			if err != nil || a.Start.Equal(was.Start) {
				return err // another chair at the same time is no news to the patient
			}
			return db.afterMove(ctx, tx, []clinic.Appointment{*a}, []clinic.Appointment{was}, sched, now)
		})
	if clinic.ErrorReason(err) == clinic.ReasonSlotTaken && minutes > 0 {
		err = withAlternatives(err, db.alternatives(ctx, kind, start, minutes, patientID, now, alternativesOffered))
	}
	return a, err
}

// Cancel cancels an appointment, keeping who, when and why. version 0
// skips the version check (the API's cancel names no version).
func (db *DB) Cancel(ctx context.Context, id int64, version int, reason string, now time.Time) (clinic.Appointment, error) {
	reason, err := clinic.CancelReason(reason)
	if err != nil {
		return clinic.Appointment{}, err
	}
	return db.change(ctx, id, version, clinic.ActCancel, now, "appointment.cancel",
		func(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, sched clinic.Schedule) error {
			a.Status = clinic.StatusCancelled
			_, err := tx.Exec(ctx, `
				UPDATE appointments SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3, cancel_reason = $4,
					version = version + 1, updated_at = now()
				WHERE id = $1`, a.ID, now, clinic.ActorFrom(ctx).UserID(), reason)
			if err != nil {
				return err
			}
			return db.afterCancel(ctx, tx, []clinic.Appointment{*a}, sched, now)
		})
}

// CheckIn records the patient's arrival. An infusion visit needs the
// current consent form signed (clinic.ConsentGate), a driver or escort
// (the one entered now, else the one on the patient's file,
// clinic.CheckDriver) and the screen (clinic.CheckScreening), which may
// hold the visit until a physician clears it. All of it is kept on the
// appointment.
func (db *DB) CheckIn(ctx context.Context, id int64, version int, arrival clinic.Arrival, now time.Time) (clinic.Appointment, error) {
	return db.change(ctx, id, version, clinic.ActCheckIn, now, "appointment.check_in",
		func(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, _ clinic.Schedule) error {
			if err := consentGate(ctx, tx, *a); err != nil {
				return err
			}
			var onFile clinic.Driver
			if err := tx.QueryRow(ctx, `SELECT driver_name, driver_phone FROM patients WHERE id = $1`, a.PatientID).Scan(
				&onFile.Name, &onFile.Phone); err != nil {
				return err
			}
			d, derr := clinic.CheckDriver(a.Kind, arrival.Driver, onFile)
			screen, serr := clinic.CheckScreening(a.Kind, arrival.Screen)
			if err := joinProblems(derr, serr); err != nil {
				return err
			}
			a.Status, a.Screen = clinic.StatusCheckedIn, screen
			var sys, dia *int
			var answers *clinic.Answers
			holds := []string{}
			if screen != nil {
				sys, dia, answers, holds = &screen.Systolic, &screen.Diastolic, &screen.Answers, screen.Holds
			}
			_, err := tx.Exec(ctx, `
				UPDATE appointments SET status = 'checked_in', checked_in_at = $2,
					driver_name = nullif($3, ''), driver_phone = nullif($4, ''),
					bp_systolic = $5, bp_diastolic = $6, screening = $7, holds = $8,
					version = version + 1, updated_at = now()
				WHERE id = $1`, a.ID, now, d.Name, d.Phone, sys, dia, answers, holds)
			return err
		})
}

// joinProblems is the first refusal of several checks of one form, with
// every field problem of all of them, so that the form shows each at once.
func joinProblems(errs ...error) error {
	var first *clinic.Error
	for _, err := range errs {
		var e *clinic.Error
		switch {
		case err == nil:
			continue
		case !errors.As(err, &e) || e.Code != clinic.EINVALID:
			return err
		case first == nil:
			c := *e
			c.Fields = maps.Clone(e.Fields)
			first = &c
		default:
			if first.Fields == nil {
				first.Fields = map[string]string{}
			}
			maps.Copy(first.Fields, e.Fields)
		}
	}
	if first == nil {
		return nil
	}
	return first
}

// ClearHold records a physician's clearance of a visit held by its screen,
// with the reason: the infusion may start.
func (db *DB) ClearHold(ctx context.Context, id int64, version int, reason string, now time.Time) (clinic.Appointment, error) {
	return db.change(ctx, id, version, clinic.ActClear, now, "appointment.clear",
		func(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, _ clinic.Schedule) error {
			actor := clinic.ActorFrom(ctx)
			if actor.Role() != clinic.RolePhysician {
				return clinic.Errorf(clinic.EFORBIDDEN, "Only a physician can clear a visit held by its screen.")
			}
			reason, err := clinic.CheckClear(a.Screen, reason)
			if err != nil {
				return err
			}
			cleared := *a.Screen
			cleared.Cleared = &clinic.Clearance{At: now, ByID: *actor.UserID(), Reason: reason}
			a.Screen = &cleared
			_, err = tx.Exec(ctx, `UPDATE appointments SET cleared_at = $2, cleared_by = $3, clear_reason = $4,
				version = version + 1, updated_at = now() WHERE id = $1`, a.ID, now, *actor.UserID(), reason)
			return err
		})
}

// NoShow records that the patient did not come.
func (db *DB) NoShow(ctx context.Context, id int64, version int, now time.Time) (clinic.Appointment, error) {
	return db.setStatus(ctx, id, version, clinic.ActNoShow, clinic.StatusNoShow, now)
}

// Complete records that the visit is over.
func (db *DB) Complete(ctx context.Context, id int64, version int, now time.Time) (clinic.Appointment, error) {
	return db.setStatus(ctx, id, version, clinic.ActComplete, clinic.StatusCompleted, now)
}

// setStatus moves an appointment to a status, stamping when it arrived at
// checked_in or completed.
func (db *DB) setStatus(ctx context.Context, id int64, version int, act clinic.Action, to clinic.Status, now time.Time) (clinic.Appointment, error) {
	return db.change(ctx, id, version, act, now, "appointment."+string(act),
		func(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, sched clinic.Schedule) error {
			return applyStatus(ctx, tx, a, to, now, sched)
		})
}

// applyStatus moves an appointment to a status inside tx; the last
// loading session completed moves the course to maintenance, and its plan
// with it.
func applyStatus(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, to clinic.Status, now time.Time, sched clinic.Schedule) error {
	a.Status = to
	_, err := tx.Exec(ctx, `
		UPDATE appointments SET status = $2,
			checked_in_at = CASE WHEN $2 = 'checked_in' THEN $3 ELSE checked_in_at END,
			completed_at = CASE WHEN $2 = 'completed' THEN $3 ELSE completed_at END,
			version = version + 1, updated_at = now()
		WHERE id = $1`, a.ID, string(to), now)
	if err != nil || to != clinic.StatusCompleted || a.SeriesID == nil {
		return err
	}
	moved, err := finishLoading(ctx, tx, *a.CourseID, *a.SessionNo)
	if err != nil || !moved {
		return err
	}
	return refreshPlan(ctx, tx, *a.CourseID, now, sched)
}

// change locks one appointment, refuses it when its version is not the one
// the person saw or the action is not allowed now, applies apply and audits
// the appointment before and after, all in one transaction.
func (db *DB) change(ctx context.Context, id int64, version int, act clinic.Action, now time.Time, action string,
	apply func(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, sched clinic.Schedule) error) (clinic.Appointment, error) {
	var after clinic.Appointment
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		patientID, err := patientOfAppointment(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := lockPatient(ctx, tx, patientID); err != nil {
			return err
		}
		before, err := scanAppointment(tx.QueryRow(ctx, `SELECT `+appointmentColumns+` FROM appointments WHERE id = $1 FOR UPDATE`, id))
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment.")
		}
		if err != nil {
			return err
		}
		if version != 0 && version != before.Version {
			return clinic.Errorf(clinic.ECONFLICT, "This appointment was changed by someone else meanwhile. It is shown as it stands now; nothing was changed.")
		}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := before.Allow(act, now, sched); err != nil {
			return err
		}
		after = before
		if err := apply(ctx, tx, &after, sched); err != nil {
			return err
		}
		after.Version++
		return audit(ctx, tx, clinic.AuditEntry{Action: action, Entity: "appointment", EntityID: &after.ID,
			PatientID: &after.PatientID, Before: before, After: after})
	})
	return after, err
}

// patientOfAppointment is whose appointment id is; ENOTFOUND for none.
func patientOfAppointment(ctx context.Context, tx pgx.Tx, id int64) (int64, error) {
	var patientID int64
	err := tx.QueryRow(ctx, `SELECT patient_id FROM appointments WHERE id = $1`, id).Scan(&patientID)
	if isNoRows(err) {
		return 0, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment.")
	}
	return patientID, err
}

// keepsSeriesSpacing refuses to move a session of a loading series to a
// day that breaks the series' gaps or span (clinic.CheckSessionMove).
func keepsSeriesSpacing(ctx context.Context, tx pgx.Tx, a clinic.Appointment, start time.Time, sched clinic.Schedule) error {
	if a.SeriesID == nil {
		return nil
	}
	course, err := seriesCourse(ctx, tx, *a.SeriesID)
	if err != nil {
		return err
	}
	sessions, err := seriesSessions(ctx, tx, *a.SeriesID, false)
	if err != nil {
		return err
	}
	return clinic.CheckSessionMove(clinic.PlanOf(course.Numbers), sessions, a.ID, start, sched.Loc)
}

// lockPatient serialises, until commit, the transactions that place or
// move one patient's appointments. Without it, two bookings of one patient
// racing into two chairs can each wait for the other inside the exclusion
// constraint's check (a deadlock Postgres breaks after a second). Every
// such transaction takes it before any row lock, so it cannot deadlock
// itself.
func lockPatient(ctx context.Context, tx pgx.Tx, patientID int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(1, $1::int)`, patientID)
	return err
}

// lockDays serialises, until commit, the transactions that place
// appointments on the same clinic-local days, taking one lock per day in
// date order. Without it, bookings racing for one slot each insert and
// then wait inside the overlap constraint's check for the others; Postgres
// breaks each such cycle by failing the newest, which the deadlock retry
// runs again into the same slot, and under load the oldest waits on a
// stream of newcomers until statement_timeout (found by make load: inserts
// waiting 20–30 s on transactionid locks held by other waiting inserts).
// Holding a day's lock, an insert sees every rival as committed and the
// constraint answers at once. Call it before reading the day's chairs.
func lockDays(ctx context.Context, tx pgx.Tx, loc *time.Location, starts ...time.Time) error {
	days := make([]int32, 0, len(starts))
	for _, t := range starts {
		days = append(days, int32(clinic.DateOf(t, loc).DaysSince(clinic.Date{Year: 2000, Month: 1, Day: 1})))
	}
	slices.Sort(days)
	days = slices.Compact(days)
	// unnest keeps the array's order, so the locks are taken in date order.
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(2, d) FROM unnest($1::int[]) AS d`, days)
	return err
}
