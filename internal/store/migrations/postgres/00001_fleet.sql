-- The fleet's objects, as in the SQLite schema with PostgreSQL's types:
-- times are TIMESTAMPTZ, JSON documents JSONB, flags BOOLEAN.

-- +goose Up
CREATE TABLE agents (
	id        TEXT PRIMARY KEY,
	hostname  TEXT NOT NULL,
	tags      JSONB NOT NULL,
	version   TEXT NOT NULL DEFAULT '',
	os        TEXT NOT NULL DEFAULT '',
	kernel    TEXT NOT NULL DEFAULT '',
	addresses JSONB NOT NULL DEFAULT '[]',
	live      BOOLEAN NOT NULL DEFAULT TRUE,
	health    TEXT NOT NULL,
	reason    TEXT NOT NULL DEFAULT '',
	last_seen TIMESTAMPTZ NOT NULL,
	enrolled  TIMESTAMPTZ NOT NULL,
	revoked   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE targets (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	selector   JSONB NOT NULL,
	all_agents BOOLEAN NOT NULL,
	created    TIMESTAMPTZ NOT NULL
);

CREATE TABLE templates (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	target_id   TEXT NOT NULL REFERENCES targets (id),
	packages    JSONB NOT NULL,
	duration_ms BIGINT NOT NULL,
	attributes  JSONB NOT NULL,
	created     TIMESTAMPTZ NOT NULL
);

CREATE TABLE runs (
	id          TEXT PRIMARY KEY,
	template_id TEXT NOT NULL REFERENCES templates (id),
	state       TEXT NOT NULL,
	created     TIMESTAMPTZ NOT NULL,
	assignments JSONB NOT NULL DEFAULT '[]',
	exclusions  JSONB NOT NULL DEFAULT '[]'
);
CREATE INDEX runs_state ON runs (state);

CREATE TABLE run_transitions (
	run_id     TEXT NOT NULL REFERENCES runs (id),
	seq        INTEGER NOT NULL,
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	at         TIMESTAMPTZ NOT NULL,
	reason     TEXT NOT NULL,
	PRIMARY KEY (run_id, seq)
);

CREATE TABLE blobs (
	sha256  TEXT PRIMARY KEY,
	body    BYTEA NOT NULL,
	size    BIGINT NOT NULL,
	created TIMESTAMPTZ NOT NULL
);

CREATE TABLE uploads (
	run_id   TEXT NOT NULL REFERENCES runs (id),
	agent_id TEXT NOT NULL REFERENCES agents (id),
	kind     TEXT NOT NULL,
	key      TEXT NOT NULL,
	sha256   TEXT NOT NULL REFERENCES blobs (sha256),
	received TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (run_id, agent_id, kind, key)
);

-- +goose Down
DROP TABLE uploads;
DROP TABLE blobs;
DROP TABLE run_transitions;
DROP TABLE runs;
DROP TABLE templates;
DROP TABLE targets;
DROP TABLE agents;
