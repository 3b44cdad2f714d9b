// Package clinic is the domain: users and roles, clinic hours, chairs,
// protocols, patients, courses, appointments, infusions and relief, and the
// rules over them. It holds plain types and pure functions; it knows nothing
// of SQL or HTTP. Its one error type, *Error, carries a code that the HTTP
// layer maps to a status in one place.
package clinic
