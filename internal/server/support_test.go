package server

import (
	"context"
	"errors"
	"testing"

	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/rules"
)

func TestSupport(t *testing.T) {
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	s := Support{Rules: all, Ecosystems: func(context.Context) (map[string][]string, error) {
		return map[string][]string{"Debian:12": {"osv/Debian"}, "Alpine:v3.18": {"alpine-secdb"}}, nil
	}}
	for _, tt := range []struct {
		pkg string
		a   fleet.Agent
		ok  bool
		why fleet.ExclusionReason
	}{
		{"cis", fleet.Agent{OS: "debian:12"}, true, ""},
		{"cis", fleet.Agent{OS: "centos:7"}, false, fleet.ExcludedUnsupportedOS},
		{"cis", fleet.Agent{OS: "almalinux:8.10"}, true, ""},
		{"cis", fleet.Agent{}, false, fleet.ExcludedUnsupportedOS},
		{"best-practices", fleet.Agent{OS: "almalinux:8.10"}, true, ""},
		{"cve", fleet.Agent{OS: "debian:12"}, true, ""},
		{"cve", fleet.Agent{OS: "alpine:3.18.4"}, true, ""},
		{"cve", fleet.Agent{OS: "ubuntu:22.04"}, false, fleet.ExcludedNoFeedData},
		{"cve", fleet.Agent{OS: "plan9:4"}, false, fleet.ExcludedUnsupportedOS},
		{"runtime", fleet.Agent{OS: "debian:12", Live: true}, true, ""},
		{"runtime", fleet.Agent{OS: "debian:12"}, false, fleet.ExcludedNotLive},
	} {
		ok, why, detail := s.Supports(tt.pkg, tt.a)
		if ok != tt.ok || why != tt.why || (!ok && detail == "") {
			t.Errorf("%s on %q: %v %s %q, want %v %s", tt.pkg, tt.a.OS, ok, why, detail, tt.ok, tt.why)
		}
	}
	none := Support{Rules: all, DBError: errors.New("no such file")}
	if ok, why, detail := none.Supports("cve", fleet.Agent{OS: "debian:12"}); ok || why != fleet.ExcludedNoFeedData || detail == "" {
		t.Errorf("no database: %v %s %q", ok, why, detail)
	}
}
