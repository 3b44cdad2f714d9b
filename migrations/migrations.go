// Package migrations embeds the SQL migrations, NNNN_name.up.sql and
// NNNN_name.down.sql, applied in order by golang-migrate.
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
