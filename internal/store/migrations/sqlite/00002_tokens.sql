-- API and join tokens: the SHA-256 of their secret, never the secret.

-- +goose Up
CREATE TABLE tokens (
	id       TEXT PRIMARY KEY,
	kind     TEXT NOT NULL,
	hash     TEXT NOT NULL,
	role     TEXT NOT NULL DEFAULT '',
	name     TEXT NOT NULL DEFAULT '',
	created  TEXT NOT NULL,
	expires  TEXT,
	max_uses INTEGER NOT NULL DEFAULT 0,
	uses     INTEGER NOT NULL DEFAULT 0,
	revoked  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- +goose Down
DROP TABLE tokens;
