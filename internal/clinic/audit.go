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

// AuditCheck is the result of verifying the audit log against its
// signed tree head (and a head saved outside the database, when given).
type AuditCheck struct {
	Rows     int64 // sealed rows recomputed
	Pending  int64 // rows not sealed yet
	OK       bool
	BrokenAt int64  // the first seq that does not match; 0 when no one row can be named
	Problem  string // what is wrong there
	Head     AuditHead
	Saved    *AuditHead // the head saved elsewhere that the log was checked against
	// KeysFromDatabase: no trusted key was given, so the heads were checked
	// with the keys the database itself records (a rewritten log is then
	// caught only by a head saved outside it).
	KeysFromDatabase bool
}

// AuditStatus is the sealer's progress: the latest signed head, the rows
// waiting to be sealed and how long the oldest of them has waited.
type AuditStatus struct {
	Head          AuditHead
	Signed        string // the head as a signed note
	VerifierKey   string // the key the head is signed with
	Pending       int64
	Lag           time.Duration
	KeyInDatabase bool // the signing key was generated and is kept in the database
}

// ID returns a pointer to id, for the optional ids of an AuditEntry.
func ID(id int64) *int64 { return &id }
