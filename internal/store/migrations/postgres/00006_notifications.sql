-- As in the SQLite schema, with PostgreSQL types. Notifications: the
-- webhooks a template subscribes to its runs' events (a JSON list of
-- {event, url}), and the outbox of deliveries. A delivery is recorded in
-- the transaction that moves its run, so none is lost when the server
-- stops; the server's notifier sends each, in its run's order (seq: the
-- transition that raised it, n: its place among that transition's
-- deliveries), and records every attempt. body is the JSON document
-- sent, byte for byte (it is signed): BYTEA, not JSONB.

-- +goose Up
ALTER TABLE templates ADD COLUMN subscriptions JSONB NOT NULL DEFAULT '[]';

CREATE TABLE deliveries (
	id           TEXT PRIMARY KEY,
	run_id       TEXT NOT NULL REFERENCES runs (id),
	template_id  TEXT NOT NULL,
	seq          INTEGER NOT NULL,
	n            INTEGER NOT NULL,
	event        TEXT NOT NULL,
	url          TEXT NOT NULL,
	body         BYTEA NOT NULL,
	status       TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	created      TIMESTAMPTZ NOT NULL,
	next_attempt TIMESTAMPTZ NOT NULL,
	last_attempt TIMESTAMPTZ,
	last_status  INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	UNIQUE (run_id, seq, n)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt);
CREATE INDEX deliveries_queue ON deliveries (run_id, url, seq, n);
CREATE INDEX deliveries_created ON deliveries (created);

-- +goose Down
DROP TABLE deliveries;
ALTER TABLE templates DROP COLUMN subscriptions;
