package clinic

import "context"

// Actor is who is acting in a request: the signed-in user (nil for the
// system, e.g. a command-line tool), the request's id and the client address.
// The store reads it from the context to write audit rows.
type Actor struct {
	User      *User
	RequestID string
	Address   string
}

// UserID returns the acting user's id, or nil for the system.
func (a Actor) UserID() *int64 {
	if a.User == nil {
		return nil
	}
	return &a.User.ID
}

// Role returns the acting user's role, or "" for the system.
func (a Actor) Role() Role {
	if a.User == nil {
		return ""
	}
	return a.User.Role
}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; the zero Actor (the system) if none.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}
