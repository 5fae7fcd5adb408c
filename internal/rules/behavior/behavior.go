package behavior

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/report"
)

// Output is what the runtime rules package produced for one window.
type Output struct {
	Findings []finding.Finding
	// Results holds exactly one result per rule, in Rules() order, with
	// a reason that states what was examined.
	Results []finding.Result
	// Coverage has the scopes "observation" and "*" of package runtime.
	Coverage []report.Coverage
}

// maxListed caps the processes or connections one finding lists in its
// evidence; the rest are counted.
const maxListed = 5

// Evaluate judges obs, the observations of host hostID (finding.HostKey).
// A nil obs (no window was observed) gives an error result per rule and
// not_evaluated coverage: it is the caller's job to say why, but a report
// built from it can never look clean.
func Evaluate(hostID string, obs *observe.Observations) Output {
	out := Output{Findings: []finding.Finding{}, Results: []finding.Result{}}
	if obs == nil {
		const why = "no observation window was recorded"
		for _, r := range Rules() {
			out.Results = append(out.Results, result(r.ID, finding.StatusError, why))
		}
		out.Coverage = []report.Coverage{
			{Package: finding.PackageRuntime, Scope: "observation", Status: report.NotEvaluated, Reason: why},
			{Package: finding.PackageRuntime, Scope: "*", Status: report.NotEvaluated, Reason: why},
		}
		return out
	}
	e := &evaluation{host: hostID, obs: obs, out: &out, index: map[string]int{}}
	e.clients(RuleInsecureClientLogin, loginServices, "cleartext login port", "")
	e.clients(RuleInsecureClientGeneral, generalClientServices, "cleartext client port", udpClientsNotAssessed)
	e.unusedListeners()
	e.serverProtocols()
	u := e.codeInUse()
	e.hardening(RuleWithoutDEP, u)
	e.hardening(RuleWithoutStackCookies, u)
	e.rootPermissions(u)
	e.coverage(u)
	return out
}

// evaluation is one run of Evaluate.
type evaluation struct {
	host string
	obs  *observe.Observations
	out  *Output
	// index maps rule id and target to the finding's position in
	// out.Findings: one finding per (rule, subject).
	index map[string]int
}

func result(id, status, reason string) finding.Result {
	return finding.Result{RulesPackage: finding.PackageRuntime, RuleID: id, Status: status, Reason: reason}
}

func (e *evaluation) result(id, status, reason string) {
	e.out.Results = append(e.out.Results, result(id, status, reason))
}

// finding returns the finding of rule id about target, creating it with
// title and attrs on first use; callers append evidence to it.
func (e *evaluation) finding(id, target, title string, attrs map[string]string) *finding.Finding {
	k := id + "\x00" + target
	if i, ok := e.index[k]; ok {
		return &e.out.Findings[i]
	}
	r := rule(id)
	a := map[string]string{"target": target}
	for key, v := range attrs {
		a[key] = v
	}
	e.out.Findings = append(e.out.Findings, finding.Finding{
		ID:             finding.Fingerprint(finding.Subject{Host: e.host, RulesPackage: finding.PackageRuntime, RuleID: id, Target: target}),
		RulesPackage:   finding.PackageRuntime,
		RuleID:         id,
		Severity:       r.Severity,
		Title:          title,
		Description:    r.Description,
		Recommendation: r.Recommendation,
		Evidence:       []string{},
		Attributes:     a,
	})
	e.index[k] = len(e.out.Findings) - 1
	return &e.out.Findings[len(e.out.Findings)-1]
}

// coverage says how complete the window is. The method's blind spots are
// inherent and reported with the observations; partial is for what this
// window in particular missed: lost events, the observer's notes
// (processes in other mount namespaces, limits), code that could not be
// analysed, processes of other users that could not be read.
func (e *evaluation) coverage(u *codeUse) {
	var gaps []string
	if n := e.obs.Stats.Skipped; n > 0 {
		gaps = append(gaps, fmt.Sprintf("the kernel skipped %s of the eBPF programs (one was already running on that CPU): most are TCP state changes that make no event, but a connection may be among them", plural(int(n), "run", "runs")))
	}
	if n := e.obs.Stats.Lost; n > 0 {
		gaps = append(gaps, fmt.Sprintf("%d events lost (the observer fell behind): connections and processes may be missing", n))
	}
	if n := u.otherNS; n > 0 {
		gaps = append(gaps, plural(n, "process", "processes")+" in other mount namespaces (containers): their code was not analysed")
	}
	if n := u.unreadable; n > 0 {
		gaps = append(gaps, unreadableText(n, "process", "processes")+": their code was not analysed")
	}
	if n := u.unknownExe; n > 0 {
		gaps = append(gaps, plural(n, "process", "processes")+" exited before their executable could be read: their code was not analysed")
	}
	if n := u.noCode; n > 0 {
		gaps = append(gaps, plural(n, "process", "processes")+" listed without an executable or mapped code: their code was not analysed")
	}
	if n := len(u.failed); n > 0 {
		gaps = append(gaps, fmt.Sprintf("%s used by processes could not be analysed (%s)", plural(n, "file", "files"), u.failedSample()))
	}
	gaps = append(gaps, e.obs.Notes...)

	w := e.obs.Window
	what := fmt.Sprintf("%s method, %s window", cmp.Or(string(e.obs.Method), "unknown"), w.End.Sub(w.Start).Round(time.Second))
	if w.StoppedEarly {
		what += fmt.Sprintf(" (stopped early; %s requested)", w.Requested)
	}
	obsCov := report.Coverage{Package: finding.PackageRuntime, Scope: "observation", Status: report.Evaluated, Reason: what}
	all := report.Coverage{Package: finding.PackageRuntime, Scope: "*", Status: report.Evaluated}
	if len(gaps) > 0 {
		obsCov.Status, obsCov.Reason = report.Partial, what+": "+strings.Join(gaps, "; ")
		all.Status, all.Reason = report.Partial, "observation partial"
	}
	e.out.Coverage = append(e.out.Coverage, obsCov, all)
}

// process names a process in evidence: "pid 4711 /usr/bin/telnet (uid
// 1000)". pid 0 is a connection seen without its process.
func process(pid int, exe, comm string, uid uint32) string {
	if pid == 0 && exe == "" {
		return "an unidentified process"
	}
	name := exe
	if name == "" {
		name = cmp.Or(comm, "?") + " (executable unknown)"
	}
	return fmt.Sprintf("pid %d %s (uid %d)", pid, name, uid)
}

// program names what a finding is about: the executable's path, else the
// process name, else "unknown".
func program(exe, comm string) string {
	return cmp.Or(exe, comm, "unknown")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
