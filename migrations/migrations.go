// Package migrations holds the versioned SQL schema, embedded into the binary.
// Files are append-only: a merged migration is never edited; every schema
// change ships as a new numbered file.
package migrations

import "embed"

// FS holds one folder of goose migrations per SQL dialect.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
