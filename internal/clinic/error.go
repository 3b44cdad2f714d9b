package clinic

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to a status in exactly one place.
const (
	EINVALID      = "invalid"      // the input breaks a rule; Fields says which
	EMALFORMED    = "malformed"    // the request could not be read at all
	ETOOLARGE     = "too_large"    // the request body is over the limit
	EUNSUPPORTED  = "unsupported"  // the request body is not sent as JSON
	EUNAUTHORIZED = "unauthorized" // not signed in, or bad credentials
	ETHROTTLED    = "throttled"    // too many failed sign-ins; try later
	EFORBIDDEN    = "forbidden"    // signed in, but not allowed
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict" // taken meanwhile, or changed by someone else
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// Reasons say, for code, why a refusal happened: behaviour hangs on these,
// never on a message's words.
type Reason string

const (
	ReasonSlotTaken          Reason = "slot_taken"           // a chair or the patient was taken meanwhile
	ReasonNextInfusionBooked Reason = "next_infusion_booked" // one next maintenance infusion per patient
	ReasonInfusionThatDay    Reason = "infusion_that_day"    // never two infusions of a patient on one day
	ReasonDriverMissing      Reason = "driver_missing"       // an infusion is checked in only with a driver
	ReasonConsentMissing     Reason = "consent_missing"      // an infusion is checked in only with the current consent signed
	ReasonOnHold             Reason = "on_hold"              // screening stopped the infusion until a physician clears it
)

// Error is the one error type of the application. Message is written for the
// person using the product; internal details never go into it.
type Error struct {
	Code    string
	Message string
	// Fields maps a form or JSON field name to a message about it.
	Fields map[string]string
	// RetryAfterSeconds is set for ETHROTTLED.
	RetryAfterSeconds int
	// Alternatives are free slots offered instead of one just taken.
	Alternatives []Slot
	// Reason is why, for code that acts on the refusal; "" when none applies.
	Reason Reason
	// Existing is the appointment in the way (the next infusion already
	// booked), offered to be moved instead.
	Existing *Appointment
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error with one message per field.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: "Please correct the highlighted fields.", Fields: fields}
}

// ErrorCode returns the code of an application error, EINTERNAL for any other
// error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the person-facing message of an application error and
// a generic one for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again."
}

// ErrorReason returns the typed reason of an application error, "" for none.
func ErrorReason(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorFields returns the per-field messages of an application error.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// ErrorAlternatives returns the slots an application error offers instead.
func ErrorAlternatives(err error) []Slot {
	var e *Error
	if errors.As(err, &e) {
		return e.Alternatives
	}
	return nil
}

// Problems collects per-field messages while validating input.
type Problems map[string]string

// Add records msg for field unless the field already has a message.
func (p Problems) Add(field, msg string) {
	if _, ok := p[field]; !ok {
		p[field] = msg
	}
}

// Err returns an EINVALID error when there are problems, else nil.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return Invalid(p)
}
