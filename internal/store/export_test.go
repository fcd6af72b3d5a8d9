package store

// Exported for the tests of package store_test.
const (
	ScanFirstSQL   = scanFirstSQL
	ScanNextSQL    = scanNextSQL
	RecordsVersion = recordsVersion
)

// MigrationSQL returns the SQL of migration i (1-based), to build a
// database of an older schema as that emer made it.
func MigrationSQL(i int) string { return migrations[i-1].sql }

// NumMigrations is the schema version of this emer.
func NumMigrations() int { return len(migrations) }
