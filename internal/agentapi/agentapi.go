// Package agentapi is the contract between `kensa agent` and `kensa
// server`: the documents they exchange on the agent endpoints (under
// /api/v1/agent, mutual TLS) and at enrolment. Both sides use these types,
// so they cannot disagree; the server's OpenAPI document describes them
// too.
//
// The protocol, from the agent's side:
//
//  1. Enrol once: POST /api/v1/enrol with a join token and a certificate
//     request (EnrolRequest); keep the certificate, key and agent id
//     (EnrolResponse) under the agent's state directory.
//  2. Heartbeat every Interval: POST /api/v1/agent/heartbeat
//     (Heartbeat). The answer (HeartbeatResponse) may hold Work: a run to
//     collect for.
//  3. For a Work: collect the inventory (and, for the runtime package,
//     observe for Duration), then upload each document: first ask
//     whether the server has its content (HEAD /api/v1/agent/blobs/{sha256}:
//     200 or 404), send it when not (PUT, gzip, the SHA-256 of the
//     uncompressed bytes in the path), then record it for the run (POST
//     /api/v1/agent/uploads, Upload, with an idempotency key the agent
//     keeps with the spooled document). An unchanged inventory is thus
//     not sent again, and a retried upload is recorded once.
//  4. Report the work done (or failed: WorkDone with Error) — POST
//     /api/v1/agent/done — so the server need not wait for the deadline.
//  5. Before its certificate expires (a third of its life left), ask for
//     a new one for a new key: POST /api/v1/agent/renew (RenewRequest).
//
// When the server cannot be reached, the agent keeps its documents in its
// spool and uploads them later, in order.
package agentapi

import "time"

// Kinds of uploaded documents.
const (
	KindInventory    = "inventory"    // a host.Inventory, JSON
	KindObservations = "observations" // an observe.Observations, JSON
)

// MaxBlobBytes bounds one uncompressed document: a large host's inventory
// with every package's file list is tens of megabytes.
const MaxBlobBytes = 512 << 20

// EnrolRequest is what an agent sends to enrol.
type EnrolRequest struct {
	// CSR is the agent's certificate request, PEM; its key never leaves
	// the agent.
	CSR      string            `json:"csr" doc:"The agent's certificate request, PEM; its key stays on the agent"`
	Hostname string            `json:"hostname" minLength:"1" maxLength:"253"`
	Tags     map[string]string `json:"tags,omitempty"`
	Status
}

// EnrolResponse is the agent's identity.
type EnrolResponse struct {
	AgentID     string `json:"agent_id"`
	Certificate string `json:"certificate" doc:"The agent's client certificate, PEM"`
	CA          string `json:"ca" doc:"The server's CA certificate, PEM"`
}

// Status is what an agent says of itself at enrolment and in every
// heartbeat.
type Status struct {
	Version   string   `json:"version,omitempty" maxLength:"64"`
	OS        string   `json:"os,omitempty" maxLength:"128" doc:"os-release ID:VERSION_ID (debian:12)"`
	Kernel    string   `json:"kernel,omitempty" maxLength:"256"`
	Addresses []string `json:"addresses,omitempty" maxItems:"64"`
	// Live is false for an agent that assesses an image (--root).
	Live bool `json:"live"`
}

// Heartbeat is an agent's periodic report.
type Heartbeat struct {
	Status
	Health string `json:"health" enum:"HEALTHY,UNHEALTHY"`
	Reason string `json:"reason,omitempty" maxLength:"64"`
	// Running is the run the agent is collecting for, if any.
	Running string `json:"running,omitempty" maxLength:"64"`
}

// HeartbeatResponse answers a heartbeat.
type HeartbeatResponse struct {
	// Interval is when to send the next heartbeat.
	Interval time.Duration `json:"interval_ns" doc:"Nanoseconds until the next heartbeat"`
	// Work is a run to collect for, or nil.
	Work *Work `json:"work,omitempty"`
	// Cancel names runs the agent should stop collecting for (stopped
	// runs): their documents are no longer wanted.
	Cancel []string `json:"cancel,omitempty"`
}

// Work asks an agent to collect for a run.
type Work struct {
	RunID string `json:"run_id"`
	// Packages are the rules packages the agent is assessed for; they
	// decide the collectors, and whether to observe (runtime).
	Packages []string `json:"packages"`
	// Duration is the observation window of the runtime package.
	Duration time.Duration `json:"duration_ns"`
	// Deadline is when the server stops waiting for the documents.
	Deadline time.Time `json:"deadline"`
}

// Upload records a document, already sent as a blob, for a run.
type Upload struct {
	RunID string `json:"run_id" minLength:"1" maxLength:"64"`
	Kind  string `json:"kind" enum:"inventory,observations"`
	// Key is the agent's idempotency key: the same key again is recorded
	// once.
	Key    string `json:"key" minLength:"1" maxLength:"128"`
	SHA256 string `json:"sha256" pattern:"^[0-9a-f]{64}$"`
}

// WorkDone says an agent finished (or gave up on) a run's work.
type WorkDone struct {
	RunID string `json:"run_id" minLength:"1" maxLength:"64"`
	// Error is why the agent could not collect, empty on success.
	Error string `json:"error,omitempty" maxLength:"4096"`
	// ObservationError is why the runtime package's observation window
	// could not run (or was cut short) while the inventory was collected:
	// the runtime package is then not evaluated, with this reason, and the
	// other packages are. Empty when the window ran or none was asked for.
	ObservationError string `json:"observation_error,omitempty" maxLength:"4096"`
}

// RenewRequest asks for a new client certificate for the agent that
// sends it (POST /api/v1/agent/renew, over its current certificate),
// before the current one expires: a new key, made on the agent, in a
// certificate request. The agent id stays the same.
type RenewRequest struct {
	CSR string `json:"csr" doc:"A certificate request for the agent's new key, PEM"`
}

// RenewResponse is the new certificate.
type RenewResponse struct {
	Certificate string `json:"certificate" doc:"The agent's new client certificate, PEM"`
}
