-- +goose Up
-- Authors may withdraw a comment while it is still pending; the row stays
-- (with its audit entry) so nothing acknowledged is ever lost.
ALTER TABLE comments ADD COLUMN withdrawn_at DATETIME;

-- +goose Down
ALTER TABLE comments DROP COLUMN withdrawn_at;
