-- What each agent does for a run, what the run found, and when each
-- finding was first and last seen on its agent.

-- +goose Up
CREATE TABLE run_agents (
	run_id   TEXT NOT NULL REFERENCES runs (id),
	agent_id TEXT NOT NULL REFERENCES agents (id),
	packages TEXT NOT NULL,
	status   TEXT NOT NULL,
	error    TEXT NOT NULL DEFAULT '',
	updated  TEXT NOT NULL,
	PRIMARY KEY (run_id, agent_id)
) STRICT;
CREATE INDEX run_agents_agent ON run_agents (agent_id, status);

CREATE TABLE run_reports (
	run_id   TEXT NOT NULL REFERENCES runs (id),
	agent_id TEXT NOT NULL REFERENCES agents (id),
	sha256   TEXT NOT NULL REFERENCES blobs (sha256),
	findings INTEGER NOT NULL,
	PRIMARY KEY (run_id, agent_id)
) STRICT;

CREATE TABLE findings (
	run_id        TEXT NOT NULL REFERENCES runs (id),
	agent_id      TEXT NOT NULL REFERENCES agents (id),
	id            TEXT NOT NULL,
	severity      TEXT NOT NULL,
	rules_package TEXT NOT NULL,
	rule_id       TEXT NOT NULL,
	body          TEXT NOT NULL,
	PRIMARY KEY (run_id, agent_id, id)
) STRICT;
CREATE INDEX findings_agent ON findings (agent_id);

CREATE TABLE finding_seen (
	agent_id   TEXT NOT NULL REFERENCES agents (id),
	id         TEXT NOT NULL,
	first_seen TEXT NOT NULL,
	last_seen  TEXT NOT NULL,
	first_run  TEXT NOT NULL,
	last_run   TEXT NOT NULL,
	PRIMARY KEY (agent_id, id)
) STRICT;

-- +goose Down
DROP TABLE finding_seen;
DROP TABLE findings;
DROP TABLE run_reports;
DROP TABLE run_agents;
