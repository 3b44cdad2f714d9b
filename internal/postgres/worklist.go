package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/jackc/pgx/v5"
)

// Work lists: which patients the desk should call or book, and which the
// physician should look at. They read the stored plans (kept current in
// the transaction of every change to their inputs) and work out the flags
// that depend on the day and on bookings as they read.

// WorkList names a list.
type WorkList string

const (
	ListDueSoon       WorkList = "due"     // due within 14 days, nothing booked
	ListOverdue       WorkList = "overdue" // due date passed, nothing booked
	ListReportMissing WorkList = "report"  // no relief report 14 days after the last infusion
	ListFlagged       WorkList = "flagged" // any flag (the physician's list)
)

// WorkItem is one patient on a work list.
type WorkItem struct {
	PatientID    int64
	Name         string
	MRN          string
	Phone        string
	DueDate      *clinic.Date
	LastInfusion *clinic.Date
	Booked       bool // the next maintenance infusion is booked
	Flags        []clinic.Flag
	Rationale    string
}

// WorkCounts are the sizes of the lists, for the home pages.
type WorkCounts struct {
	DueSoon, Overdue, ReportMissing, Flagged int
	FailedMessages                           int // messages to patients that could not be sent
	OpenRequests                             int // patients' requests the desk has not answered
	Held                                     int // checked-in visits their screen holds, for a physician to clear
}

const workSelect = `
	SELECT p.id, p.first_name || ' ' || p.last_name, p.mrn, p.phone, cp.due_date, cp.last_infusion_on,
	       EXISTS (SELECT 1 FROM appointments a WHERE ` + nextVisitWhere + `) AS booked,
	       cp.last_reported, cp.flags, cp.rationale
	FROM course_plans cp
	JOIN courses c ON c.id = cp.course_id AND c.phase = 'maintenance'
	JOIN patients p ON p.id = cp.patient_id`

// nextVisitWhere finds, as a, the patient p's next maintenance infusion:
// booked and not yet happened (an additional infusion is not the next one).
const nextVisitWhere = `a.patient_id = p.id AND a.status = 'booked' AND a.kind = 'maintenance' AND a.additional_reason IS NULL`

// listWhere is each list's condition on the stored plan ($1 is today).
var listWhere = map[WorkList]string{
	ListDueSoon:       `cp.due_date BETWEEN $1::date AND $1::date + 14 AND NOT EXISTS (SELECT 1 FROM appointments a WHERE ` + nextVisitWhere + `)`,
	ListOverdue:       `cp.due_date < $1::date AND NOT EXISTS (SELECT 1 FROM appointments a WHERE ` + nextVisitWhere + `)`,
	ListReportMissing: `NOT cp.last_reported AND cp.last_infusion_on <= $1::date - 14`,
	ListFlagged: `(cp.flags <> '[]'::jsonb OR (NOT cp.last_reported AND cp.last_infusion_on <= $1::date - 14)
		OR (cp.due_date <= $1::date + 14 AND NOT EXISTS (SELECT 1 FROM appointments a WHERE ` + nextVisitWhere + `)))`,
}

// listOrder sorts a list: by due date (the default), name or last infusion.
var listOrder = map[string]string{
	"due":  `cp.due_date, lower(p.last_name), p.id`,
	"name": `lower(p.last_name), lower(p.first_name), p.id`,
	"last": `cp.last_infusion_on, lower(p.last_name), p.id`,
}

// Work returns a work list, sorted as asked ("due", "name", "last"),
// at most limit rows. Audited as a read of patient data.
func (db *DB) Work(ctx context.Context, list WorkList, sortBy string, now time.Time, limit int) ([]WorkItem, error) {
	where, ok := listWhere[list]
	if !ok {
		return nil, clinic.Errorf(clinic.ENOTFOUND, "There is no such list.")
	}
	order, ok := listOrder[sortBy]
	if !ok {
		order = listOrder["due"]
	}
	var out []WorkItem
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		today := clinic.DateOf(now, sched.Loc)
		rows, err := tx.Query(ctx, workSelect+` WHERE `+where+` ORDER BY `+order+fmt.Sprintf(` LIMIT %d`, limit), today)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (WorkItem, error) { return scanWork(r, today, sched) })
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "worklist.read", Entity: "course",
			After: map[string]any{"list": list, "count": len(out)}})
	})
	return out, err
}

func scanWork(r pgx.CollectableRow, today clinic.Date, sched clinic.Schedule) (WorkItem, error) {
	var w WorkItem
	var reported bool
	var flags []byte
	if err := r.Scan(&w.PatientID, &w.Name, &w.MRN, &w.Phone, &w.DueDate, &w.LastInfusion, &w.Booked, &reported, &flags, &w.Rationale); err != nil {
		return w, err
	}
	if err := json.Unmarshal(flags, &w.Flags); err != nil {
		return w, err
	}
	// The flags of the day, as the planner words them.
	if !reported && w.LastInfusion != nil && !today.Before(w.LastInfusion.AddDays(clinic.ReportMissingAfterDays)) {
		w.Flags = append(w.Flags, clinic.Flag{Code: clinic.FlagReportMissing, Message: fmt.Sprintf(
			"No relief report for the infusion of %s, %d days ago.", sched.DayText(*w.LastInfusion, i18n.DayMonth), today.DaysSince(*w.LastInfusion))})
	}
	if w.DueDate != nil && !w.Booked && !today.Before(w.DueDate.AddDays(-clinic.DueSoonDays)) {
		msg := fmt.Sprintf("Due %s and no maintenance visit is booked.", sched.DayText(*w.DueDate, i18n.Short))
		if today.After(*w.DueDate) {
			msg = fmt.Sprintf("Overdue since %s and no maintenance visit is booked.", sched.DayText(*w.DueDate, i18n.Short))
		}
		w.Flags = append(w.Flags, clinic.Flag{Code: clinic.FlagDueNotBooked, Message: msg})
	}
	return w, nil
}

// Counts returns the size of every list, in one pass over the plans.
func (db *DB) Counts(ctx context.Context, now time.Time) (WorkCounts, error) {
	var c WorkCounts
	sched, err := db.Schedule(ctx)
	if err != nil {
		return c, err
	}
	err = db.q(ctx).QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE `+listWhere[ListDueSoon]+`),
		       count(*) FILTER (WHERE `+listWhere[ListOverdue]+`),
		       count(*) FILTER (WHERE `+listWhere[ListReportMissing]+`),
		       count(*) FILTER (WHERE `+listWhere[ListFlagged]+`),
		       (SELECT count(*) FROM messages WHERE status = 'failed'),
		       (SELECT count(*) FROM requests WHERE answered_at IS NULL),
		       (SELECT count(*) FROM appointments a WHERE `+heldWhere+`)
		FROM course_plans cp JOIN courses c ON c.id = cp.course_id AND c.phase = 'maintenance'
		JOIN patients p ON p.id = cp.patient_id`, clinic.DateOf(now, sched.Loc)).Scan(
		&c.DueSoon, &c.Overdue, &c.ReportMissing, &c.Flagged, &c.FailedMessages, &c.OpenRequests, &c.Held)
	return c, mapError(err)
}

// heldWhere finds, as a, the checked-in visits their screen holds.
const heldWhere = `a.status = 'checked_in' AND cardinality(a.holds) > 0 AND a.cleared_at IS NULL`

// HeldVisits lists the checked-in visits their screen holds, first come
// first: the physician's to clear. Audited as a read of patient data.
func (db *DB) HeldVisits(ctx context.Context) ([]clinic.Visit, error) {
	var out []clinic.Visit
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, visitSelect+` WHERE `+heldWhere+` ORDER BY a.starts_at, a.id`)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, scanVisit); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "worklist.read", Entity: "appointment",
			After: map[string]any{"list": "held", "count": len(out)}})
	})
	return out, err
}
