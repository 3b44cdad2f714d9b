package clinic

import (
	"encoding/json"
	"time"
)

// AuditEntry is what a change (or a read of patient data, or a sign-in)
// records: the action, the record it touched and, for updates, the record
// before and after. Who, when and from which request come from the Actor.
type AuditEntry struct {
	Action    string // entity.verb, e.g. "user.create", "auth.sign_in"
	Entity    string // "user", "patient", "appointment", …
	EntityID  *int64
	PatientID *int64
	Before    any // marshalled to JSON; nil for none
	After     any
}

// AuditRecord is one row of the audit log as read back.
type AuditRecord struct {
	Seq       int64
	At        time.Time
	ActorID   *int64
	ActorName string
	ActorRole string
	Action    string
	Entity    string
	EntityID  *int64
	PatientID *int64
	RequestID string
	Address   string
	Before    json.RawMessage
	After     json.RawMessage
}

// AuditCheck is the result of verifying the audit log's hash chain.
type AuditCheck struct {
	Rows     int64
	OK       bool
	BrokenAt int64  // the first sequence number where the chain breaks
	Problem  string // what is wrong there
}

// ID returns a pointer to id, for the optional ids of an AuditEntry.
func ID(id int64) *int64 { return &id }
