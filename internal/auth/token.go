// Package auth is who may do what on a Kensa server: the API tokens of
// people and scripts, each with a role, and the join tokens agents
// enrol with. Agents themselves are known by their client certificates
// (internal/pki), never by a token.
//
// A token reads "kensa_<kind>_<id>_<secret>": the id finds its record,
// the secret proves it. The server keeps only the SHA-256 of the secret,
// so a copy of its database does not hold usable tokens, and it compares
// in constant time.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind is what a token is for.
type Kind string

// Token kinds.
const (
	// KindAPI authenticates a person or a script on the API, with a role.
	KindAPI Kind = "api"
	// KindJoin lets an agent enrol once (or a given number of times)
	// before it expires.
	KindJoin Kind = "join"
)

// Role is what an API token may do.
type Role string

// Roles, from the most to the least powerful.
const (
	// Admin may do everything: tokens, agents (revocation), and all an
	// operator may.
	Admin Role = "admin"
	// Operator manages targets, templates, runs and suppressions.
	Operator Role = "operator"
	// Viewer reads: it can change nothing.
	Viewer Role = "viewer"
)

// ParseRole accepts a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Admin, Operator, Viewer:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want admin, operator or viewer", s)
}

// Allows reports whether a token of role r may perform an action that
// needs role need: admin ⊇ operator ⊇ viewer.
func (r Role) Allows(need Role) bool { return rank(r) >= rank(need) && rank(need) > 0 }

func rank(r Role) int {
	switch r {
	case Admin:
		return 3
	case Operator:
		return 2
	case Viewer:
		return 1
	}
	return 0
}

// Token is the stored record of a token: never its secret.
type Token struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Hash is the hex SHA-256 of the secret.
	Hash string `json:"-"`
	// Role is an API token's; empty for a join token.
	Role    Role      `json:"role,omitempty"`
	Name    string    `json:"name,omitempty"`
	Created time.Time `json:"created"`
	// Expires is when the token stops working; zero for never (API
	// tokens may be made without an end).
	Expires time.Time `json:"expires,omitzero"`
	// MaxUses bounds a join token's enrolments; 0 for no bound.
	MaxUses int  `json:"max_uses,omitempty"`
	Uses    int  `json:"uses"`
	Revoked bool `json:"revoked,omitempty"`
}

// Errors of Check. Callers answer 401 to all of them alike: which one it
// was goes to the server's log, not to the client.
var (
	ErrMalformed = errors.New("malformed token")
	ErrUnknown   = errors.New("unknown token")
	ErrRevoked   = errors.New("token revoked")
	ErrExpired   = errors.New("token expired")
	ErrUsedUp    = errors.New("join token used up")
)

// idLen and secretLen are in bytes of randomness: 64 bits find the
// record, 256 bits prove the token.
const (
	idLen     = 8
	secretLen = 32
	prefix    = "kensa_"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// New makes a token of kind k: the string to give its holder (shown
// once) and its record to store, without a role, expiry or name.
func New(k Kind, now time.Time) (string, Token, error) {
	id := make([]byte, idLen)
	secret := make([]byte, secretLen)
	if _, err := rand.Read(id); err != nil {
		return "", Token{}, err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", Token{}, err
	}
	sid := strings.ToLower(b32.EncodeToString(id))
	ssecret := strings.ToLower(b32.EncodeToString(secret))
	return prefix + string(k) + "_" + sid + "_" + ssecret, Token{ID: sid, Kind: k, Hash: hash(ssecret), Created: now.UTC()}, nil
}

// Parse splits a token into its kind, id and secret, checking its form
// only.
func Parse(s string) (k Kind, id, secret string, err error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", "", "", ErrMalformed
	}
	parts := strings.Split(rest, "_")
	if len(parts) != 3 || (parts[0] != string(KindAPI) && parts[0] != string(KindJoin)) || len(parts[1]) == 0 || len(parts[2]) == 0 || len(parts[2]) > 128 {
		return "", "", "", ErrMalformed
	}
	return Kind(parts[0]), parts[1], parts[2], nil
}

// Check verifies a presented secret against its record at time now.
func (t Token) Check(secret string, now time.Time) error {
	if subtle.ConstantTimeCompare([]byte(hash(secret)), []byte(t.Hash)) != 1 {
		return ErrUnknown
	}
	switch {
	case t.Revoked:
		return ErrRevoked
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return ErrExpired
	case t.Kind == KindJoin && t.MaxUses > 0 && t.Uses >= t.MaxUses:
		return ErrUsedUp
	}
	return nil
}

func hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
