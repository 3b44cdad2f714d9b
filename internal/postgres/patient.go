package postgres

import (
	"context"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// insertPatient stores a patient (the medical record number comes from the
// database's sequence) and audits it.
func insertPatient(ctx context.Context, tx pgx.Tx, p clinic.Patient) (clinic.Patient, error) {
	err := tx.QueryRow(ctx, `
		INSERT INTO patients (first_name, last_name, date_of_birth, phone, email, weight_kg, condition,
			driver_name, driver_phone, notes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		RETURNING id, mrn, version`,
		p.FirstName, p.LastName, p.DateOfBirth, p.Phone, p.Email, p.WeightKg, p.Condition,
		p.DriverName, p.DriverPhone, p.Notes).Scan(&p.ID, &p.MRN, &p.Version)
	if err != nil {
		return p, err
	}
	return p, audit(ctx, tx, clinic.AuditEntry{Action: "patient.create", Entity: "patient", EntityID: &p.ID, PatientID: &p.ID, After: p})
}
