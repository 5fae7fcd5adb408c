-- The fleet's objects. Times are TEXT in UTC, RFC 3339 with nanoseconds
-- at a fixed width (they sort as text); JSON documents are TEXT.

-- +goose Up
CREATE TABLE agents (
	id        TEXT PRIMARY KEY,
	hostname  TEXT NOT NULL,
	tags      TEXT NOT NULL,
	version   TEXT NOT NULL DEFAULT '',
	os        TEXT NOT NULL DEFAULT '',
	kernel    TEXT NOT NULL DEFAULT '',
	addresses TEXT NOT NULL DEFAULT '[]',
	live      INTEGER NOT NULL DEFAULT 1,
	health    TEXT NOT NULL,
	reason    TEXT NOT NULL DEFAULT '',
	last_seen TEXT NOT NULL,
	enrolled  TEXT NOT NULL,
	revoked   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE targets (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	selector   TEXT NOT NULL,
	all_agents INTEGER NOT NULL,
	created    TEXT NOT NULL
) STRICT;

CREATE TABLE templates (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	target_id   TEXT NOT NULL REFERENCES targets (id),
	packages    TEXT NOT NULL,
	duration_ms INTEGER NOT NULL,
	attributes  TEXT NOT NULL,
	created     TEXT NOT NULL
) STRICT;

CREATE TABLE runs (
	id          TEXT PRIMARY KEY,
	template_id TEXT NOT NULL REFERENCES templates (id),
	state       TEXT NOT NULL,
	created     TEXT NOT NULL,
	assignments TEXT NOT NULL DEFAULT '[]',
	exclusions  TEXT NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX runs_state ON runs (state);

CREATE TABLE run_transitions (
	run_id     TEXT NOT NULL REFERENCES runs (id),
	seq        INTEGER NOT NULL,
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	at         TEXT NOT NULL,
	reason     TEXT NOT NULL,
	PRIMARY KEY (run_id, seq)
) STRICT;

CREATE TABLE blobs (
	sha256  TEXT PRIMARY KEY,
	body    BLOB NOT NULL,
	size    INTEGER NOT NULL,
	created TEXT NOT NULL
) STRICT;

CREATE TABLE uploads (
	run_id   TEXT NOT NULL REFERENCES runs (id),
	agent_id TEXT NOT NULL REFERENCES agents (id),
	kind     TEXT NOT NULL,
	key      TEXT NOT NULL,
	sha256   TEXT NOT NULL REFERENCES blobs (sha256),
	received TEXT NOT NULL,
	PRIMARY KEY (run_id, agent_id, kind, key)
) STRICT;

-- +goose Down
DROP TABLE uploads;
DROP TABLE blobs;
DROP TABLE run_transitions;
DROP TABLE runs;
DROP TABLE templates;
DROP TABLE targets;
DROP TABLE agents;
