package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestNewParseCheck(t *testing.T) {
	s, rec, err := New(KindAPI, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "kensa_api_") || strings.Contains(s, rec.Hash) {
		t.Errorf("token %q (hash %s)", s, rec.Hash)
	}
	k, id, secret, err := Parse(s)
	if err != nil || k != KindAPI || id != rec.ID {
		t.Fatalf("Parse(%q) = %s %s %v", s, k, id, err)
	}
	if err := rec.Check(secret, t0); err != nil {
		t.Errorf("its own secret: %v", err)
	}
	if err := rec.Check(secret+"x", t0); !errors.Is(err, ErrUnknown) {
		t.Errorf("another secret: %v", err)
	}
	s2, rec2, _ := New(KindAPI, t0)
	if s2 == s || rec2.ID == rec.ID || rec2.Hash == rec.Hash {
		t.Error("two tokens alike")
	}
	for _, bad := range []string{"", "kensa_api_x", "kensa_root_a_b", "kensa_api__b", "kensa_api_a_", "token_api_a_b", "kensa_api_a_b_c", "kensa_api_a_" + strings.Repeat("b", 129)} {
		if _, _, _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q): %v", bad, err)
		}
	}
}

func TestCheckStates(t *testing.T) {
	s, rec, _ := New(KindJoin, t0)
	_, _, secret, _ := Parse(s)
	rec.Expires, rec.MaxUses = t0.Add(time.Hour), 1
	if err := rec.Check(secret, t0.Add(59*time.Minute)); err != nil {
		t.Errorf("before expiry: %v", err)
	}
	if err := rec.Check(secret, t0.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v", err)
	}
	rec.Uses = 1
	if err := rec.Check(secret, t0); !errors.Is(err, ErrUsedUp) {
		t.Errorf("used up: %v", err)
	}
	rec.Uses, rec.MaxUses = 5, 0
	if err := rec.Check(secret, t0); err != nil {
		t.Errorf("no bound on uses: %v", err)
	}
	rec.Revoked = true
	if err := rec.Check(secret, t0); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked: %v", err)
	}
}

func TestRoles(t *testing.T) {
	for _, tt := range []struct {
		have, need Role
		want       bool
	}{
		{Admin, Admin, true}, {Admin, Operator, true}, {Admin, Viewer, true},
		{Operator, Admin, false}, {Operator, Operator, true}, {Operator, Viewer, true},
		{Viewer, Operator, false}, {Viewer, Viewer, true},
		{"", Viewer, false}, {Admin, "", false}, {"root", Viewer, false},
	} {
		if got := tt.have.Allows(tt.need); got != tt.want {
			t.Errorf("%q allows %q = %v", tt.have, tt.need, got)
		}
	}
	if _, err := ParseRole("superuser"); err == nil {
		t.Error("ParseRole accepted superuser")
	}
	if r, err := ParseRole("viewer"); err != nil || r != Viewer {
		t.Errorf("ParseRole(viewer) = %s, %v", r, err)
	}
}
