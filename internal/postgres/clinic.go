package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// querier is what both the pool and a transaction can do.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func settings(ctx context.Context, q querier) (clinic.Settings, map[clinic.Date]string, error) {
	s, closures, _, err := versionedSettings(ctx, q)
	return s, closures, err
}

// versionedSettings reads the settings with the version of the whole
// (clinic row, hours and closures) that the settings cache goes by.
func versionedSettings(ctx context.Context, q querier) (clinic.Settings, map[clinic.Date]string, int64, error) {
	// One round trip: every page and booking reads this.
	var s clinic.Settings
	var hours, closures []byte
	var clock, order string
	var version int64
	err := q.QueryRow(ctx, `
		SELECT settings_version, name, timezone, slot_minutes, booking_horizon_days, phone, address, reminders, version,
		       patients_per_nurse, start_spacing_minutes, clock, date_order,
		       coalesce((SELECT json_agg(json_build_array(weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI'))
		                 ORDER BY weekday, opens) FROM opening_hours), '[]'),
		       coalesce((SELECT json_agg(json_build_array(to_char(on_date, 'YYYY-MM-DD'), reason)) FROM closures), '[]')
		FROM clinic`).Scan(&version, &s.Name, &s.TimeZone, &s.SlotMinutes, &s.BookingHorizonDays, &s.Phone, &s.Address, &s.Reminders,
		&s.Version, &s.Nursing.PatientsPerNurse, &s.Nursing.StartSpacingMinutes, &clock, &order, &hours, &closures)
	if err != nil {
		return s, nil, 0, err
	}
	if s.Style, err = i18n.ParseStyle(clock, order); err != nil {
		return s, nil, 0, err
	}
	var hs [][3]any
	if err := json.Unmarshal(hours, &hs); err != nil {
		return s, nil, 0, err
	}
	for _, h := range hs {
		wd, _ := h[0].(float64)
		opens, _ := h[1].(string)
		closes, _ := h[2].(string)
		o, err1 := clinic.ParseClock(opens)
		c, err2 := clinic.ParseClock(closes)
		if err1 != nil || err2 != nil || wd < 0 || wd > 6 {
			return s, nil, 0, fmt.Errorf("opening hours %v: %v %v", h, err1, err2)
		}
		s.Hours[int(wd)] = append(s.Hours[int(wd)], clinic.Range{Opens: o, Closes: c})
	}
	var cs [][2]string
	if err := json.Unmarshal(closures, &cs); err != nil {
		return s, nil, 0, err
	}
	out := make(map[clinic.Date]string, len(cs))
	for _, c := range cs {
		d, err := clinic.ParseDate(c[0])
		if err != nil {
			return s, nil, 0, err
		}
		out[d] = c[1]
	}
	return s, out, version, nil
}

// settingsChanged drops this process's cached schedule after a change to
// the settings, so that the rest of the request that changed them reads
// them again (every other request sees the new version anyway).
func (db *DB) settingsChanged() {
	db.cachedSchedule.drop()
	db.cachedChairs.drop()
}

// Chairs returns the active chairs in chair order (from the process's
// cache while the request's settings version is current: byVersion).
func (db *DB) Chairs(ctx context.Context) ([]clinic.Chair, error) {
	if chairs, ok := db.cachedChairs.get(ctx); ok {
		return slices.Clone(chairs), nil
	}
	rows, err := db.q(ctx).Query(ctx, `
		SELECT id, name, position, active, version, (SELECT settings_version FROM clinic)
		FROM chairs WHERE active ORDER BY position, id`)
	if err != nil {
		return nil, mapError(err)
	}
	var version int64
	chairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Chair, error) { return scanChair(r, &version) })
	if err != nil {
		return nil, mapError(err)
	}
	if len(chairs) > 0 { // no row, no version
		db.cachedChairs.put(version, slices.Clone(chairs))
	}
	return chairs, nil
}

const protocolColumns = `id, name, sessions, min_gap_days, max_gap_days, max_span_days, infusion_minutes,
	recovery_minutes, dose_min_mg_per_kg_h, dose_max_mg_per_kg_h, first_interval_days, min_interval_days,
	max_interval_days, lead_days, step_days, maintenance_infusion_minutes, maintenance_recovery_minutes`

func scanProtocol(r pgx.Row) (clinic.Protocol, error) {
	var p clinic.Protocol
	err := r.Scan(&p.ID, &p.Name, &p.Sessions, &p.MinGapDays, &p.MaxGapDays, &p.MaxSpanDays, &p.InfusionMinutes,
		&p.RecoveryMinutes, &p.DoseMinMgPerKgH, &p.DoseMaxMgPerKgH, &p.FirstIntervalDays, &p.MinIntervalDays,
		&p.MaxIntervalDays, &p.LeadDays, &p.StepDays, &p.MaintenanceInfusionMinutes, &p.MaintenanceRecoveryMinutes)
	return p, err
}

// Protocols returns the active protocols by name.
func (db *DB) Protocols(ctx context.Context) ([]clinic.Protocol, error) {
	ps, err := activeProtocols(ctx, db.q(ctx))
	return ps, mapError(err)
}

func activeProtocols(ctx context.Context, q querier) ([]clinic.Protocol, error) {
	rows, err := q.Query(ctx, `SELECT `+protocolColumns+` FROM protocols WHERE active ORDER BY name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Protocol, error) { return scanProtocol(r) })
}

// insertProtocol stores a protocol and returns its id.
func insertProtocol(ctx context.Context, tx pgx.Tx, p clinic.Protocol) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO protocols (name, sessions, min_gap_days, max_gap_days, max_span_days, infusion_minutes,
			recovery_minutes, dose_min_mg_per_kg_h, dose_max_mg_per_kg_h, first_interval_days, min_interval_days,
			max_interval_days, lead_days, step_days, maintenance_infusion_minutes, maintenance_recovery_minutes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		RETURNING id`,
		p.Name, p.Sessions, p.MinGapDays, p.MaxGapDays, p.MaxSpanDays, p.InfusionMinutes,
		p.RecoveryMinutes, p.DoseMinMgPerKgH, p.DoseMaxMgPerKgH, p.FirstIntervalDays, p.MinIntervalDays,
		p.MaxIntervalDays, p.LeadDays, p.StepDays, p.MaintenanceInfusionMinutes, p.MaintenanceRecoveryMinutes).Scan(&id)
	return id, err
}

// replaceHours stores the weekly opening hours in place of the old ones.
func replaceHours(ctx context.Context, tx pgx.Tx, h clinic.WeeklyHours) error {
	if _, err := tx.Exec(ctx, `DELETE FROM opening_hours`); err != nil {
		return err
	}
	for wd, ranges := range h {
		for _, r := range ranges {
			if _, err := tx.Exec(ctx, `INSERT INTO opening_hours (weekday, opens, closes) VALUES ($1, $2::text::time, $3::text::time)`,
				wd, r.Opens.String(), r.Closes.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// UpdateSettings stores the clinic's name, zone, grid and weekly hours if
// they are still at s.Version. Appointments are never touched: those that
// no longer fit are listed by Misfits.
func (db *DB) UpdateSettings(ctx context.Context, s clinic.Settings) (clinic.Settings, error) {
	defer db.settingsChanged()
	if err := s.Validate(); err != nil {
		return s, err
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		s, err = updateSettings(ctx, tx, s)
		return err
	})
	return s, err
}

// PutSettings changes the clinic's settings from what they are now, in one
// transaction: change gets the stored settings and returns them changed
// (it may run again when the transaction is retried, so it only computes).
// It returns the settings stored and the booked appointments that no
// longer fit them (Misfits).
func (db *DB) PutSettings(ctx context.Context, change func(clinic.Settings) (clinic.Settings, error), now time.Time) (clinic.Settings, []clinic.Misfit, error) {
	defer db.settingsChanged()
	var saved clinic.Settings
	var out []clinic.Misfit
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		cur, _, err := settings(ctx, tx)
		if err != nil {
			return err
		}
		s, err := change(cur)
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			return err
		}
		if saved, err = updateSettings(ctx, tx, s); err != nil {
			return err
		}
		out, err = db.misfits(ctx, tx, now)
		return err
	})
	return saved, out, err
}

// updateSettings stores s if the settings are still at s.Version.
func updateSettings(ctx context.Context, tx pgx.Tx, s clinic.Settings) (clinic.Settings, error) {
	before, _, err := settings(ctx, tx)
	if err != nil {
		return s, err
	}
	if s.Nursing == (clinic.Nursing{}) {
		s.Nursing = before.Nursing
	}
	tag, err := tx.Exec(ctx, `
		UPDATE clinic SET name = $1, timezone = $2, slot_minutes = $3, booking_horizon_days = $5,
			phone = $6, address = $7, reminders = $8, patients_per_nurse = $9, start_spacing_minutes = $10,
			clock = $11, date_order = $12, version = version + 1, updated_at = now()
		WHERE version = $4`, s.Name, s.TimeZone, s.SlotMinutes, s.Version, s.BookingHorizonDays, s.Phone, s.Address, s.Reminders,
		s.Nursing.PatientsPerNurse, s.Nursing.StartSpacingMinutes, s.Style.Clock(), s.Style.Order())
	if err != nil {
		return s, err
	}
	if tag.RowsAffected() == 0 {
		return s, clinic.Errorf(clinic.ECONFLICT, "The settings were changed by someone else meanwhile. They are shown as they stand now; yours were not saved.")
	}
	if err := replaceHours(ctx, tx, s.Hours); err != nil {
		return s, err
	}
	if before.TimeZone != s.TimeZone {
		// Appointments keep their instants; their local dates follow the zone.
		if _, err := tx.Exec(ctx, `UPDATE appointments SET local_date = (starts_at AT TIME ZONE $1)::date`, s.TimeZone); err != nil {
			return s, err
		}
	}
	s.Version = before.Version + 1
	return s, audit(ctx, tx, clinic.AuditEntry{Action: "clinic.update", Entity: "clinic", Before: before, After: s})
}

// AddClosure closes the clinic on a date. Appointments that day stay booked
// and are listed by Misfits for the desk to move.
//
// A closure is for a day still to come, within the booking horizon: the
// past is not rewritten.
func (db *DB) AddClosure(ctx context.Context, d clinic.Date, reason string, now time.Time) error {
	defer db.settingsChanged()
	reason, err := clinic.ClosureReason(reason)
	if err != nil {
		return err
	}
	if d.IsZero() {
		return clinic.Invalid(map[string]string{"date": "Enter the date the clinic is closed."})
	}
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := sched.CheckHorizon("date", d, now); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO closures (on_date, reason, created_by) VALUES ($1, $2, $3)
			ON CONFLICT (on_date) DO NOTHING`, d, reason, clinic.ActorFrom(ctx).UserID())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return clinic.Invalid(map[string]string{"date": "The clinic is already closed on " + sched.DayText(d, i18n.ShortYear) + "."})
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "closure.add", Entity: "closure",
			After: map[string]string{"date": d.String(), "reason": reason}})
	})
}

// RemoveClosure opens the clinic again on a date closed by mistake.
// A past closure stays: it is part of what happened.
func (db *DB) RemoveClosure(ctx context.Context, d clinic.Date, now time.Time) error {
	defer db.settingsChanged()
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if d.Before(clinic.DateOf(now, sched.Loc)) {
			return clinic.Invalid(map[string]string{"date": "That day has passed; its closure stays on record."})
		}
		var reason string
		err = tx.QueryRow(ctx, `DELETE FROM closures WHERE on_date = $1 RETURNING reason`, d).Scan(&reason)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "The clinic is not closed on that date.")
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "closure.remove", Entity: "closure",
			Before: map[string]string{"date": d.String(), "reason": reason}})
	})
}

// AllChairs returns every chair, in service or not, in chair order.
func (db *DB) AllChairs(ctx context.Context) ([]clinic.Chair, error) {
	rows, err := db.q(ctx).Query(ctx, `SELECT id, name, position, active, version FROM chairs ORDER BY position, id`)
	if err != nil {
		return nil, mapError(err)
	}
	chairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Chair, error) { return scanChair(r) })
	return chairs, mapError(err)
}

// SaveChair adds a chair (ID 0) or changes one still at c.Version. Taking a
// chair out of service keeps its appointments; they are listed by Misfits.
func (db *DB) SaveChair(ctx context.Context, c clinic.Chair) (clinic.Chair, error) {
	defer db.settingsChanged()
	if err := clinic.ValidateChair(&c); err != nil {
		return c, err
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if c.ID == 0 {
			c.Version = 1
			if err := tx.QueryRow(ctx, `INSERT INTO chairs (name, position, active) VALUES ($1, $2, $3) RETURNING id`,
				c.Name, c.Position, c.Active).Scan(&c.ID); err != nil {
				return err
			}
			return audit(ctx, tx, clinic.AuditEntry{Action: "chair.add", Entity: "chair", EntityID: &c.ID, After: c})
		}
		before, err := scanChair(tx.QueryRow(ctx, `SELECT id, name, position, active, version FROM chairs WHERE id = $1 FOR UPDATE`, c.ID))
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such chair.")
		}
		if err != nil {
			return err
		}
		if before.Version != c.Version {
			return clinic.Errorf(clinic.ECONFLICT, "This chair was changed by someone else meanwhile. It is shown as it stands now; your change was not saved.")
		}
		c.Version++
		if _, err := tx.Exec(ctx, `UPDATE chairs SET name = $2, position = $3, active = $4, version = version + 1 WHERE id = $1`,
			c.ID, c.Name, c.Position, c.Active); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "chair.update", Entity: "chair", EntityID: &c.ID, Before: before, After: c})
	})
	return c, err
}

// AllProtocols returns every protocol, in use or retired, by name.
func (db *DB) AllProtocols(ctx context.Context) ([]clinic.Protocol, error) {
	rows, err := db.q(ctx).Query(ctx, `SELECT `+protocolColumns+`, active, version FROM protocols ORDER BY name`)
	if err != nil {
		return nil, mapError(err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Protocol, error) { return scanFullProtocol(r) })
	return ps, mapError(err)
}

// Protocol returns one protocol.
func (db *DB) Protocol(ctx context.Context, id int64) (clinic.Protocol, error) {
	p, err := scanFullProtocol(db.q(ctx).QueryRow(ctx, `SELECT `+protocolColumns+`, active, version FROM protocols WHERE id = $1`, id))
	if isNoRows(err) {
		return p, clinic.Errorf(clinic.ENOTFOUND, "There is no such protocol.")
	}
	return p, mapError(err)
}

func scanFullProtocol(r pgx.Row) (clinic.Protocol, error) {
	var p clinic.Protocol
	err := r.Scan(&p.ID, &p.Name, &p.Sessions, &p.MinGapDays, &p.MaxGapDays, &p.MaxSpanDays, &p.InfusionMinutes,
		&p.RecoveryMinutes, &p.DoseMinMgPerKgH, &p.DoseMaxMgPerKgH, &p.FirstIntervalDays, &p.MinIntervalDays,
		&p.MaxIntervalDays, &p.LeadDays, &p.StepDays, &p.MaintenanceInfusionMinutes, &p.MaintenanceRecoveryMinutes,
		&p.Active, &p.Version)
	return p, err
}

// SaveProtocol adds a protocol (ID 0) or changes one still at p.Version.
// Courses already opened keep the numbers they copied.
func (db *DB) SaveProtocol(ctx context.Context, p clinic.Protocol) (clinic.Protocol, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if p.ID == 0 {
			id, err := insertProtocol(ctx, tx, p)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE protocols SET active = $2 WHERE id = $1`, id, p.Active); err != nil {
				return err
			}
			p.ID, p.Version = id, 1
			return audit(ctx, tx, clinic.AuditEntry{Action: "protocol.add", Entity: "protocol", EntityID: &p.ID, After: p})
		}
		before, err := scanFullProtocol(tx.QueryRow(ctx, `SELECT `+protocolColumns+`, active, version FROM protocols WHERE id = $1 FOR UPDATE`, p.ID))
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such protocol.")
		}
		if err != nil {
			return err
		}
		if before.Version != p.Version {
			return clinic.Errorf(clinic.ECONFLICT, "This protocol was changed by someone else meanwhile. It is shown as it stands now; your change was not saved.")
		}
		p.Version++
		_, err = tx.Exec(ctx, `
			UPDATE protocols SET name = $2, sessions = $3, min_gap_days = $4, max_gap_days = $5, max_span_days = $6,
				infusion_minutes = $7, recovery_minutes = $8, dose_min_mg_per_kg_h = $9, dose_max_mg_per_kg_h = $10,
				first_interval_days = $11, min_interval_days = $12, max_interval_days = $13, lead_days = $14,
				step_days = $15, maintenance_infusion_minutes = $16, maintenance_recovery_minutes = $17,
				active = $18, version = version + 1
			WHERE id = $1`,
			p.ID, p.Name, p.Sessions, p.MinGapDays, p.MaxGapDays, p.MaxSpanDays, p.InfusionMinutes,
			p.RecoveryMinutes, p.DoseMinMgPerKgH, p.DoseMaxMgPerKgH, p.FirstIntervalDays, p.MinIntervalDays,
			p.MaxIntervalDays, p.LeadDays, p.StepDays, p.MaintenanceInfusionMinutes, p.MaintenanceRecoveryMinutes, p.Active)
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "protocol.update", Entity: "protocol", EntityID: &p.ID, Before: before, After: p})
	})
	return p, err
}
