package projections

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/salesbot/salesbot/adapters/redact"
)

// CheckDSN accepts the two forms of a PostgreSQL connection string (the
// PostgreSQL sink's): a postgres:// (or postgresql://) URL, or key=value
// pairs. It does not connect. Its error may quote the string: hide its
// secrets (redact.DSNSecrets) before showing it.
func CheckDSN(dsn string) error {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if _, err := url.Parse(dsn); err != nil {
			return fmt.Errorf("not a valid URL: %w", err)
		}
		return nil
	}
	for _, f := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(f, "="); !ok || k == "" {
			return fmt.Errorf("want postgres://user@host/db or key=value pairs, got %q", redact.DSN(dsn))
		}
	}
	return nil
}
