// Package store keeps the fleet's objects: agents, targets, templates,
// runs with their state history and plan, and what agents upload. One
// implementation of Store serves both databases Kensa supports: SQLite
// (a file under the server's data directory, the default) and PostgreSQL
// (for scale), each with its own embedded migrations, and both held to
// the same conformance suite (internal/store/storetest).
//
// The store enforces what must hold however many servers share it: a
// run moves only from the state its caller saw (MoveRun is a compare and
// swap), an upload is recorded once whatever the retries, and a blob is
// stored once per content hash.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
)

var (
	// ErrNotFound: no object has that id.
	ErrNotFound = errors.New("not found")
	// ErrExists: an object with that id, or that unique name, exists.
	ErrExists = errors.New("already exists")
	// ErrConflict: the object changed since the caller read it (a run
	// is no longer in the state a transition starts from), or an upload
	// retried under the same key carries other content.
	ErrConflict = errors.New("conflict")
)

// Heartbeat is what an agent reports of itself.
type Heartbeat struct {
	Version   string
	OS        string
	Kernel    string
	Addresses []string
	Live      bool
	Health    fleet.HealthStatus
	Reason    string
	At        time.Time
}

// Upload is one document an agent sent for a run: its inventory, or its
// runtime observations. Body is stored once per content (Blob); Key is
// the agent's idempotency key, so a retried upload is recorded once.
type Upload struct {
	RunID    string
	AgentID  string
	Kind     string // "inventory", "observations"
	Key      string
	SHA256   string // of the blob
	Received time.Time
}

// Store is the fleet's storage.
type Store interface {
	CreateAgent(ctx context.Context, a fleet.Agent) error
	Agent(ctx context.Context, id string) (fleet.Agent, error)
	Agents(ctx context.Context) ([]fleet.Agent, error)
	// Heartbeat records what the agent said of itself, and when.
	Heartbeat(ctx context.Context, id string, h Heartbeat) error
	// RevokeAgent marks the agent revoked: it is refused from then on.
	RevokeAgent(ctx context.Context, id string) error

	CreateTarget(ctx context.Context, t fleet.Target) error
	Target(ctx context.Context, id string) (fleet.Target, error)
	Targets(ctx context.Context) ([]fleet.Target, error)

	// CreateTemplate stores a template; templates are never changed.
	CreateTemplate(ctx context.Context, t fleet.Template) error
	Template(ctx context.Context, id string) (fleet.Template, error)
	Templates(ctx context.Context) ([]fleet.Template, error)

	// CreateRun stores a run in its first state, with its history.
	CreateRun(ctx context.Context, r fleet.Run) error
	Run(ctx context.Context, id string) (fleet.Run, error)
	// Runs lists runs, newest first; with states, only runs in one of
	// them.
	Runs(ctx context.Context, states ...fleet.RunState) ([]fleet.Run, error)
	// MoveRun applies a transition the state machine accepted
	// (fleet.Move) if the run is still in tr.From, else fails with
	// ErrConflict: two servers, or a server and its restarted self, never
	// both move a run. The deliveries the transition raises (webhooks,
	// pending) are recorded in the same transaction, in the order given:
	// a transition is never stored without them, nor they without it.
	MoveRun(ctx context.Context, id string, tr fleet.Transition, out ...Delivery) error
	// SetPlan records the run's assignments and exclusions.
	SetPlan(ctx context.Context, id string, assigned []fleet.Assignment, excluded []fleet.Exclusion) error

	// PutBlob stores body under its SHA-256 (hex) unless it is there.
	PutBlob(ctx context.Context, sha256 string, body []byte) error
	// HasBlob reports whether a blob is stored: an agent whose
	// inventory has not changed need not send it again.
	HasBlob(ctx context.Context, sha256 string) (bool, error)
	Blob(ctx context.Context, sha256 string) ([]byte, error)
	// PutUpload records an upload, once: the same key again with the
	// same blob is a no-op (created false), with another blob
	// ErrConflict. The blob must be stored first.
	PutUpload(ctx context.Context, u Upload) (created bool, err error)
	// Uploads lists a run's uploads by agent, kind and key.
	Uploads(ctx context.Context, runID string) ([]Upload, error)

	CreateToken(ctx context.Context, t auth.Token) error
	Token(ctx context.Context, id string) (auth.Token, error)
	// Tokens lists the tokens of a kind, oldest first.
	Tokens(ctx context.Context, kind auth.Kind) ([]auth.Token, error)
	RevokeToken(ctx context.Context, id string) error
	// UseJoinToken counts one enrolment with a join token, if it is
	// still valid at now (not revoked, not expired, not used up), else
	// fails with ErrConflict: of two agents racing for the last use of a
	// token, one enrols.
	UseJoinToken(ctx context.Context, id string, now time.Time) error

	// AssignRun records the agents' work for a run, pending; work
	// already recorded is kept (a restarted server assigns again).
	AssignRun(ctx context.Context, runID string, work []RunAgent) error
	RunAgents(ctx context.Context, runID string) ([]RunAgent, error)
	// AgentWork lists an agent's pending or collecting work in runs
	// that are collecting, oldest run first.
	AgentWork(ctx context.Context, agentID string) ([]RunAgent, error)
	// SetWork moves an agent's work to status to if it is in one of
	// from, else ErrConflict.
	SetWork(ctx context.Context, runID, agentID string, from []string, to, errMsg string, at time.Time) error
	// SaveResults replaces an agent's findings in a run, those that
	// stand and those a suppression matched (kept apart, with the
	// suppression), records its report (a blob) and when each finding
	// was first and last seen on the agent, suppressed or not.
	SaveResults(ctx context.Context, runID, agentID, reportSHA string, findings []finding.Finding, suppressed []SuppressedFinding, at time.Time) error
	RunReports(ctx context.Context, runID string) ([]RunReport, error)
	// Findings lists stored findings, a page at a time.
	Findings(ctx context.Context, f FindingFilter) ([]StoredFinding, error)
	// FixedFindings lists the findings fixed in run f.RunID (R,
	// required), a page at a time in (agent, id) order, each with RunID
	// R and PreviousRun P. For each agent A whose work in R is done, the
	// previous run P is the latest run of R's template created before R
	// (a re-evaluation is a run of the template too) in which A's work
	// is done and whose state is COMPLETED or COMPLETED_WITH_ERRORS. A
	// finding of P on A is fixed in R when R has no finding of that id
	// on A (standing or suppressed) and R evaluated the finding's rules
	// package on A completely: evaluated[A] holds the package, as A's
	// report for R says (its coverage's "*" entry for the package is
	// "evaluated"). A package R evaluated in part or not at all, and an
	// agent whose work in R is not done, fix nothing: what was not
	// looked at is never said to be gone.
	//
	// The finding is P's, with its suppression as it was in P (listed
	// by f.Suppressed as Findings lists); first and last seen are its
	// sighting on A. f's other filters apply as in Findings; f.Status
	// must be "" or FindingFixed.
	FixedFindings(ctx context.Context, f FindingFilter, evaluated map[string][]string) ([]StoredFinding, error)

	// CreateSuppression stores a suppression; they are never changed.
	CreateSuppression(ctx context.Context, s Suppression) error
	Suppression(ctx context.Context, id string) (Suppression, error)
	// Suppressions lists the suppressions, oldest first: the order in
	// which they are tried, as a file's are in file order.
	Suppressions(ctx context.Context) ([]Suppression, error)
	// DeleteSuppression deletes a suppression; the findings it matched
	// keep its id, reason and owner.
	DeleteSuppression(ctx context.Context, id string) error

	// CreateCollectedRun stores a run whose documents are already there
	// (a re-evaluation), with its work and uploads, all at once.
	CreateCollectedRun(ctx context.Context, r fleet.Run, work []RunAgent, uploads []Upload) error
	// Setting and SetSetting keep small named values across restarts.
	Setting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error

	// Deliveries lists webhook deliveries: a run's in the order they are
	// sent, or, without a run, the latest first.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// DueDeliveries lists the deliveries to send now: the first pending
	// delivery of each run and URL, when its next attempt is due (a
	// delivery waits for the earlier ones of its run to the same URL),
	// oldest first, at most limit.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// ClaimDelivery takes a due delivery for one attempt: its next
	// attempt moves to until, so no other notifier sends it meanwhile
	// (one that crashed lets it become due again then). ErrConflict when
	// it is no longer pending and due.
	ClaimDelivery(ctx context.Context, id string, now, until time.Time) error
	// RecordAttempt records an attempt at a pending delivery: its
	// outcome, and its next status and attempt time.
	RecordAttempt(ctx context.Context, id string, a DeliveryAttempt) error

	Close() error
}
