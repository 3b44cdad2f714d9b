package postgres

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// DaySheetRow is one arrival on the printed day sheet: what the floor
// needs to know, in time order.
type DaySheetRow struct {
	Start, End  time.Time
	Kind        clinic.AppointmentKind
	SessionNo   *int
	Status      clinic.Status
	PatientName string
	MRN         string
	Phone       string
	Driver      clinic.Driver // the visit's, else the one on file
	Notes       string
	Chair       string
	Nurse       string
	Protocol    string
}

// DaySheet lists the day's active visits in time order (then chair order)
// with the patient's phone, driver and notes, the chair, the nurse and the
// course's protocol. Audited as a read of patient data.
func (db *DB) DaySheet(ctx context.Context, day clinic.Date) ([]DaySheetRow, error) {
	var out []DaySheetRow
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT a.starts_at, a.ends_at, a.kind, a.session_no, a.status, p.first_name || ' ' || p.last_name, p.mrn, p.phone,
			       coalesce(nullif(a.driver_name, ''), p.driver_name), coalesce(nullif(a.driver_phone, ''), p.driver_phone),
			       p.notes, c.name, coalesce(n.name, ''), coalesce(pr.name, '')
			FROM appointments a
			JOIN patients p ON p.id = a.patient_id
			JOIN chairs c ON c.id = a.chair_id
			LEFT JOIN users n ON n.id = a.nurse_id
			LEFT JOIN courses co ON co.id = a.course_id
			LEFT JOIN protocols pr ON pr.id = co.protocol_id
			WHERE a.local_date = $1 AND a.status IN ('booked', 'checked_in', 'completed')
			ORDER BY a.starts_at, c.position, a.id`, day)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DaySheetRow, error) {
			var d DaySheetRow
			return d, r.Scan(&d.Start, &d.End, &d.Kind, &d.SessionNo, &d.Status, &d.PatientName, &d.MRN, &d.Phone,
				&d.Driver.Name, &d.Driver.Phone, &d.Notes, &d.Chair, &d.Nurse, &d.Protocol)
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "day_sheet.read", Entity: "appointment",
			After: map[string]any{"date": day.String(), "count": len(out)}})
	})
	return out, err
}
