-- Small named values the server keeps across restarts: the generation of
-- the vulnerability database its latest runs were evaluated against.

-- +goose Up
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE settings;
