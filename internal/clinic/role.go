package clinic

// Role is what a user does in the clinic; it decides which pages and API
// routes they may use.
type Role string

const (
	RoleAdmin     Role = "admin"
	RoleFrontDesk Role = "front_desk"
	RoleNurse     Role = "nurse"
	RolePhysician Role = "physician"
	RolePatient   Role = "patient"
)

// Roles lists every role in the order they are shown.
var Roles = []Role{RoleFrontDesk, RoleNurse, RolePhysician, RoleAdmin, RolePatient}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, bool) {
	for _, r := range Roles {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// Label is the role's name as people say it.
func (r Role) Label() string {
	switch r {
	case RoleAdmin:
		return "Administrator"
	case RoleFrontDesk:
		return "Front desk"
	case RoleNurse:
		return "Nurse"
	case RolePhysician:
		return "Physician"
	case RolePatient:
		return "Patient"
	}
	return string(r)
}

// IsStaff reports whether the role belongs to clinic staff.
func (r Role) IsStaff() bool { return r != RolePatient && r != "" }
