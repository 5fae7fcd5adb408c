-- Suppressions kept by the server (the fields of a suppression file's
-- entry, docs/suppressions.md), and on each stored finding the one that
-- suppressed it when its run was evaluated: its id, reason and owner as
-- they were then (empty: not suppressed). A finding keeps them when the
-- suppression is deleted later, so there is no foreign key.
-- expires is the last day a suppression applies, YYYY-MM-DD, or NULL.

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
	expires       TEXT,
	created       TEXT NOT NULL,
	created_by    TEXT NOT NULL
) STRICT;

ALTER TABLE findings ADD COLUMN suppression_id TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN suppression_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN suppression_owner TEXT NOT NULL DEFAULT '';

-- The finding list's time range is on last_seen.
CREATE INDEX finding_seen_last_seen ON finding_seen (last_seen);

-- +goose Down
DROP INDEX finding_seen_last_seen;
ALTER TABLE findings DROP COLUMN suppression_owner;
ALTER TABLE findings DROP COLUMN suppression_reason;
ALTER TABLE findings DROP COLUMN suppression_id;
DROP TABLE suppressions;
