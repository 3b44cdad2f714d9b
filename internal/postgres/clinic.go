package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// querier is what both the pool and a transaction can do.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Settings returns the clinic's settings and its closure dates.
func (db *DB) Settings(ctx context.Context) (clinic.Settings, map[clinic.Date]string, error) {
	s, closures, err := settings(ctx, db.pool)
	return s, closures, mapError(err)
}

func settings(ctx context.Context, q querier) (clinic.Settings, map[clinic.Date]string, error) {
	var s clinic.Settings
	err := q.QueryRow(ctx, `SELECT name, timezone, slot_minutes, version FROM clinic`).Scan(&s.Name, &s.TimeZone, &s.SlotMinutes, &s.Version)
	if err != nil {
		return s, nil, err
	}
	rows, err := q.Query(ctx, `SELECT weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI') FROM opening_hours ORDER BY weekday, opens`)
	if err != nil {
		return s, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var wd int
		var opens, closes string
		if err := rows.Scan(&wd, &opens, &closes); err != nil {
			return s, nil, err
		}
		o, err1 := clinic.ParseClock(opens)
		c, err2 := clinic.ParseClock(closes)
		if err1 != nil || err2 != nil {
			return s, nil, fmt.Errorf("opening hours %s–%s: %v %v", opens, closes, err1, err2)
		}
		s.Hours[wd] = append(s.Hours[wd], clinic.Range{Opens: o, Closes: c})
	}
	if err := rows.Err(); err != nil {
		return s, nil, err
	}
	rows, err = q.Query(ctx, `SELECT on_date, reason FROM closures`)
	if err != nil {
		return s, nil, err
	}
	closures := map[clinic.Date]string{}
	for rows.Next() {
		var d clinic.Date
		var reason string
		if err := rows.Scan(&d, &reason); err != nil {
			return s, nil, err
		}
		closures[d] = reason
	}
	return s, closures, rows.Err()
}

// ClinicInfo returns the clinic's name and time zone, which every page shows.
func (db *DB) ClinicInfo(ctx context.Context) (string, *time.Location, error) {
	var name, tz string
	if err := db.pool.QueryRow(ctx, `SELECT name, timezone FROM clinic`).Scan(&name, &tz); err != nil {
		return "", nil, mapError(err)
	}
	loc, err := time.LoadLocation(tz)
	return name, loc, err
}

// Chairs returns the active chairs in chair order.
func (db *DB) Chairs(ctx context.Context) ([]clinic.Chair, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, name, position, active FROM chairs WHERE active ORDER BY position, id`)
	if err != nil {
		return nil, mapError(err)
	}
	chairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Chair, error) {
		var c clinic.Chair
		err := r.Scan(&c.ID, &c.Name, &c.Position, &c.Active)
		return c, err
	})
	return chairs, mapError(err)
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
	rows, err := db.pool.Query(ctx, `SELECT `+protocolColumns+` FROM protocols WHERE active ORDER BY name`)
	if err != nil {
		return nil, mapError(err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Protocol, error) { return scanProtocol(r) })
	return ps, mapError(err)
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
