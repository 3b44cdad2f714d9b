// Package clinic is the domain: users and roles, clinic hours, chairs,
// protocols, patients, courses, appointments, infusions and relief, and the
// rules over them — the booking decisions, the loading-series planner and
// its re-flow, the safety gates, the maintenance planner, the messages a
// visit sends. It holds plain types (requests and results beside the
// things they concern) and pure functions; it knows nothing of SQL or
// HTTP, and "now" and the calendar are passed in. Its one error type,
// *Error, carries a code that the HTTP layer maps to a status in one place.
//
// The scheduling rules, with their worked examples and the function and
// table test that hold each one, are written out in README.md in this
// directory.
package clinic
