-- As in the SQLite schema, with PostgreSQL types. Suppressions kept by
-- the server, and on each stored finding the one that suppressed it when
-- its run was evaluated (id, reason and owner as they were then; empty:
-- not suppressed), kept when the suppression is deleted later.

-- +goose Up
CREATE TABLE suppressions (
	id            TEXT PRIMARY KEY,
	vulnerability TEXT NOT NULL DEFAULT '',
	rule          TEXT NOT NULL DEFAULT '',
	package       TEXT NOT NULL DEFAULT '',
	host          TEXT NOT NULL DEFAULT '',
	path          TEXT NOT NULL DEFAULT '',
	rules_package TEXT NOT NULL DEFAULT '',
	reason        TEXT NOT NULL,
	owner         TEXT NOT NULL,
	expires       DATE,
	created       TIMESTAMPTZ NOT NULL,
	created_by    TEXT NOT NULL
);

ALTER TABLE findings ADD COLUMN suppression_id TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN suppression_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN suppression_owner TEXT NOT NULL DEFAULT '';

-- The finding list's time range is on last_seen; its attribute filter is
-- a JSONB containment (body->'attributes' @> '{"k":"v"}'), which this
-- index serves.
CREATE INDEX finding_seen_last_seen ON finding_seen (last_seen);
CREATE INDEX findings_attributes ON findings USING GIN ((body->'attributes') jsonb_path_ops);

-- +goose Down
DROP INDEX findings_attributes;
DROP INDEX finding_seen_last_seen;
ALTER TABLE findings DROP COLUMN suppression_owner;
ALTER TABLE findings DROP COLUMN suppression_reason;
ALTER TABLE findings DROP COLUMN suppression_id;
DROP TABLE suppressions;
