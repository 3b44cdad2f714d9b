package clinic

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The audit log is sealed into a Merkle tree (RFC 6962, as the Go checksum
// database builds it with golang.org/x/mod/sumdb/tlog): the rows, in seq
// order, are the tree's leaves, and each tree head — its size and root
// hash — is signed in the note format. These are the rules of that log:
// what a leaf is, what a head says, and how a recomputed log is compared
// with the sealed one. Storing and signing are the store's.

// AuditLeafVersion starts every leaf: a later format gets a new number.
const AuditLeafVersion = 1

// AuditLeaf is the leaf for one audit row: a JSON array, without HTML
// escaping, of the format version, seq, the time in UTC with
// microseconds, actor id, actor role, action, entity, entity id, patient
// id, request id, address, and the before and after records as the
// database's text of their JSON (or null). Every field of the row is in
// it, so a change to any of them changes the leaf's hash.
func AuditLeaf(r AuditRecord) []byte {
	raw := func(m json.RawMessage) any {
		if m == nil {
			return nil
		}
		return string(m)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Encoding a slice of strings, numbers and nil cannot fail.
	_ = enc.Encode([]any{AuditLeafVersion, r.Seq, r.At.UTC().Format("2006-01-02T15:04:05.000000Z"),
		r.ActorID, r.ActorRole, r.Action, r.Entity, r.EntityID, r.PatientID, r.RequestID, r.Address,
		raw(r.Before), raw(r.After)})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// AuditHead is a tree head: the log's first Size rows (up to LastSeq)
// hash to Root. Its text is a checkpoint (the C2SP tlog-checkpoint
// layout): the origin, the size, the root in base64, then "seq N" and
// "time T" lines.
type AuditHead struct {
	Origin  string
	Size    int64
	Root    tlog.Hash
	LastSeq int64
	Time    time.Time
}

// Text is the head's checkpoint text, the body a signature covers.
func (h AuditHead) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\nseq %d\ntime %s\n", h.Origin, h.Size,
		base64.StdEncoding.EncodeToString(h.Root[:]), h.LastSeq, h.Time.UTC().Format(time.RFC3339Nano))
}

// ParseAuditHead reads a head's checkpoint text.
func ParseAuditHead(text string) (AuditHead, error) {
	var h AuditHead
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	bad := func(what string) (AuditHead, error) {
		return AuditHead{}, fmt.Errorf("not an audit log head: %s", what)
	}
	if len(lines) != 5 || lines[0] == "" {
		return bad("want five lines")
	}
	h.Origin = lines[0]
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return bad("the size")
	}
	h.Size = size
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return bad("the root hash")
	}
	copy(h.Root[:], root)
	seq, ok := strings.CutPrefix(lines[3], "seq ")
	if h.LastSeq, err = strconv.ParseInt(seq, 10, 64); !ok || err != nil || h.LastSeq < 0 {
		return bad("the seq line")
	}
	at, ok := strings.CutPrefix(lines[4], "time ")
	if h.Time, err = time.Parse(time.RFC3339Nano, at); !ok || err != nil {
		return bad("the time line")
	}
	return h, nil
}

// OpenAuditHead checks a signed head (a note) against the trusted
// verifier keys and returns what it says.
func OpenAuditHead(signed []byte, vkeys []string) (AuditHead, error) {
	var vs []note.Verifier
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return AuditHead{}, fmt.Errorf("verifier key %q: %w", k, err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return AuditHead{}, errors.New("the head is not signed by a trusted key")
		case errors.As(err, &invalid):
			return AuditHead{}, fmt.Errorf("the head's signature is invalid (%v)", err)
		}
		return AuditHead{}, fmt.Errorf("the head is not a signed note: %w", err)
	}
	return ParseAuditHead(n.Text)
}

// AuditVerifierKey is the public verifier key of a note signer key
// ("PRIVATE+KEY+name+hash+data", as AUDIT_SIGNING_KEY holds it).
func AuditVerifierKey(skey string) (string, error) {
	if _, err := note.NewSigner(skey); err != nil {
		return "", fmt.Errorf("not a note signer key: %w", err)
	}
	parts := strings.SplitN(skey, "+", 5)               // base64 may hold "+"
	key, _ := base64.StdEncoding.DecodeString(parts[4]) // NewSigner checked it
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// LeafMismatch is where a log recomputed from the rows first differs
// from the leaves that were sealed.
type LeafMismatch struct {
	Index   int    // the position in the recomputed leaves (for the row's seq); len(got) when rows are missing from the end
	Problem string // what happened to the row there
}

// CompareLeaves compares the leaf hashes recomputed from the rows (got)
// with the sealed ones (sealed) and returns the first difference, or nil.
// A leaf hash covers the row's seq, so a row removed shows as the next
// row sitting in its place, and a row inserted as the sealed row sitting
// one place later.
func CompareLeaves(sealed, got []tlog.Hash) *LeafMismatch {
	for i := 0; i < len(sealed) && i < len(got); i++ {
		switch {
		case got[i] == sealed[i]:
			continue
		case i+1 < len(sealed) && got[i] == sealed[i+1]:
			return &LeafMismatch{i, "a sealed row is missing before this one (removed)"}
		case i+1 < len(got) && got[i+1] == sealed[i]:
			return &LeafMismatch{i, "this row is not in the sealed log (inserted)"}
		default:
			return &LeafMismatch{i, "this row was altered after it was sealed"}
		}
	}
	switch {
	case len(got) < len(sealed):
		return &LeafMismatch{len(got), "sealed rows are missing from the end of the log (removed)"}
	case len(got) > len(sealed):
		return &LeafMismatch{len(sealed), "this row is not in the sealed log (inserted)"}
	}
	return nil
}
