-- +goose Up
ALTER TABLE comments ADD COLUMN withdrawn_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE comments DROP COLUMN withdrawn_at;
