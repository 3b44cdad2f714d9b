package postgres

import (
	"context"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// insertInfusion stores an infusion given ("recorded", from an appointment)
// or copied from a paper chart ("imported").
func insertInfusion(ctx context.Context, tx pgx.Tx, inf clinic.Infusion, source string) (int64, error) {
	var id int64
	route := inf.Route
	if route == "" {
		route = "iv"
	}
	err := tx.QueryRow(ctx, `
		INSERT INTO infusions (patient_id, course_id, appointment_id, given_on, started_at, phase, route,
			dose_mg_per_kg_h, weight_kg, minutes, source, recorded_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING id`,
		inf.PatientID, inf.CourseID, inf.AppointmentID, inf.GivenOn, inf.StartedAt, inf.Phase, route,
		inf.DoseMgPerKgH, inf.WeightKg, inf.Minutes, source, clinic.ActorFrom(ctx).UserID()).Scan(&id)
	return id, err
}

// insertRelief stores one relief report.
func insertRelief(ctx context.Context, tx pgx.Tx, r clinic.ReliefReport) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO relief_reports (infusion_id, status, on_date, source, reported_by)
		VALUES ($1, $2, $3, $4, $5)
		RETURNING id`, r.InfusionID, r.Status, r.OnDate, r.Source, clinic.ActorFrom(ctx).UserID()).Scan(&id)
	return id, err
}
