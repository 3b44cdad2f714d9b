package postgres

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5/pgconn"
)

// constraintErrors turns a violated constraint into the message a person
// sees. The schema is the last line of defence; the message says what happened
// in the clinic's words.
var constraintErrors = map[string]*clinic.Error{
	"users_email_key": {Code: clinic.EINVALID, Message: "Please correct the highlighted fields.",
		Fields: map[string]string{"email": "An account with this email address already exists."}},
	"users_patient_id_key": {Code: clinic.EINVALID, Message: "Please correct the highlighted fields.",
		Fields: map[string]string{"patient_id": "This patient already has a portal account."}},
	"appointments_chair_free":          {Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: "That chair was just taken for this time."},
	"appointments_patient_free":        {Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: "The patient already has an appointment at this time."},
	"appointments_nurse_place_free":    {Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: "The nurse was just given another patient for this time."},
	"appointments_nurse_starts_spaced": {Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: "The nurse was just given another start at this time."},
	"nurse_shifts_no_overlap": {Code: clinic.EINVALID, Message: "Please correct the highlighted fields.",
		Fields: map[string]string{"from": "This nurse already has a shift at this time."}},
	"appointments_one_next_maintenance": {Code: clinic.ECONFLICT, Reason: clinic.ReasonNextInfusionBooked,
		Message: "The patient's next maintenance infusion is already booked. Move that visit instead; an extra infusion needs a physician to book it as an additional infusion, with a reason."},
	"appointments_one_infusion_a_day": {Code: clinic.EINVALID, Reason: clinic.ReasonInfusionThatDay,
		Message: "The patient already has an infusion that day. Never two infusions on one day.",
		Fields:  map[string]string{"start": "The patient already has an infusion that day."}},
	"chairs_name_key": {Code: clinic.EINVALID, Message: "Please correct the highlighted fields.",
		Fields: map[string]string{"name": "Another chair already has this name."}},
	"protocols_name_key": {Code: clinic.EINVALID, Message: "Please correct the highlighted fields.",
		Fields: map[string]string{"name": "Another protocol already has this name."}},
	"courses_one_open": {Code: clinic.ECONFLICT, Message: "The patient already has an open treatment course."},
	"relief_reports_not_before_infusion": {Code: clinic.EINVALID, Message: "Please correct the highlighted fields.",
		Fields: map[string]string{"date": "Relief cannot end before the infusion was given."}},
}

// mapError converts database errors into application errors: a known
// constraint into its message, a lost connection or a server shutting down
// into EUNAVAILABLE. Anything else is returned as it is (an internal error).
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var appErr *clinic.Error
	if errors.As(err, &appErr) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return mapPgError(pgErr, err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "unexpected EOF") {
		return unavailable(err)
	}
	return err
}

// mapPgError converts an error PostgreSQL reported (pgErr, inside err).
func mapPgError(pgErr *pgconn.PgError, err error) error {
	if e, ok := constraintErrors[pgErr.ConstraintName]; ok {
		return copyError(e)
	}
	switch {
	case pgErr.Code == "23P01": // exclusion_violation
		return &clinic.Error{Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: "That time was just taken."}
	case pgErr.Code == "40001" || pgErr.Code == "40P01": // serialization failure, deadlock
		return clinic.Errorf(clinic.ECONFLICT, "Someone else changed this at the same moment. Please try again.")
	case strings.HasPrefix(pgErr.Code, "08"), // connection exceptions
		pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutting down, starting up
		pgErr.Code == "53300", // too many connections
		pgErr.Code == "25006": // read-only transaction: a standby, or a primary fenced during a failover
		return unavailable(err)
	case pgErr.Code == "55P03" || pgErr.Code == "57014": // lock_timeout, statement_timeout
		return &unavailableError{app: &clinic.Error{Code: clinic.EUNAVAILABLE,
			Message: "The clinic's database is too busy to answer right now; nothing was changed. Please try again in a moment."}, cause: err}
	}
	return err
}

// unavailableError keeps the cause for the log while the person sees a
// generic message.
type unavailableError struct {
	app   *clinic.Error
	cause error
}

func (e *unavailableError) Error() string   { return "database unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.app, e.cause} }

func unavailable(cause error) error {
	return &unavailableError{
		app:   &clinic.Error{Code: clinic.EUNAVAILABLE, Message: "The clinic's database is not reachable right now. Please try again in a moment."},
		cause: cause,
	}
}

func copyError(e *clinic.Error) *clinic.Error {
	c := *e
	if e.Fields != nil {
		c.Fields = make(map[string]string, len(e.Fields))
		for k, v := range e.Fields {
			c.Fields[k] = v
		}
	}
	return &c
}
