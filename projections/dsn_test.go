package projections_test

import (
	"strings"
	"testing"

	"github.com/salesbot/salesbot/projections"
)

func TestCheckDSN(t *testing.T) {
	for _, ok := range []string{
		"postgres://u:secret@127.0.0.1:5432/test",
		"postgresql://localhost/db?sslmode=disable",
		"host=127.0.0.1 port=5432 dbname=test user=u password=secret",
		"",
	} {
		if err := projections.CheckDSN(ok); err != nil {
			t.Errorf("CheckDSN(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{
		"postgres://u:secret@host:port%zz/db",
		"password=secret nonsense",
		"=value",
		"localhost",
	} {
		err := projections.CheckDSN(bad)
		if err == nil {
			t.Errorf("CheckDSN(%q) accepted it", bad)
			continue
		}
		if strings.HasPrefix(bad, "password=") && strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckDSN(%q) shows the password: %v", bad, err)
		}
	}
}
