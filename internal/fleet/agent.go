package fleet

import (
	"time"
)

// HealthStatus is what an agent last said of itself, or what its silence
// says.
type HealthStatus string

// Health statuses.
const (
	Healthy   HealthStatus = "HEALTHY"
	Unhealthy HealthStatus = "UNHEALTHY"
	// Unknown: the agent has not sent a heartbeat for HeartbeatTimeout.
	Unknown HealthStatus = "UNKNOWN"
)

// Health reason codes: why an agent is unhealthy or unknown.
const (
	ReasonIdle             = "IDLE"              // healthy, no run
	ReasonRunning          = "RUNNING"           // healthy, collecting for a run
	ReasonNoHeartbeat      = "NO_HEARTBEAT"      // unknown: silent past HeartbeatTimeout
	ReasonCollectorsFailed = "COLLECTORS_FAILED" // unhealthy: its last collection failed
	ReasonSpoolFull        = "SPOOL_FULL"        // unhealthy: it cannot keep what it could not upload
	ReasonRevoked          = "REVOKED"           // its certificate was revoked
)

// HeartbeatTimeout is how long an agent may stay silent before its health
// is Unknown: three missed heartbeats at the agent's default interval.
const HeartbeatTimeout = 90 * time.Second

// Agent is an enrolled host.
type Agent struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
	Tags     Tags   `json:"tags"`
	// Version, OS, Kernel and Addresses are what the agent last reported.
	Version   string   `json:"version"`
	OS        string   `json:"os"` // os-release ID:VERSION_ID, "debian:12"
	Kernel    string   `json:"kernel,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	// Live is false for an agent that assesses an image (--root): it has
	// no running system to observe.
	Live     bool         `json:"live"`
	Health   HealthStatus `json:"health"`
	Reason   string       `json:"reason,omitempty"`
	LastSeen time.Time    `json:"last_seen"`
	Enrolled time.Time    `json:"enrolled"`
	Revoked  bool         `json:"revoked,omitempty"`
}

// HealthAt is the agent's health as of now: what it last reported, unless
// it has been silent past HeartbeatTimeout, or was revoked.
func (a Agent) HealthAt(now time.Time) (HealthStatus, string) {
	switch {
	case a.Revoked:
		return Unhealthy, ReasonRevoked
	case now.Sub(a.LastSeen) > HeartbeatTimeout:
		return Unknown, ReasonNoHeartbeat
	}
	return a.Health, a.Reason
}
