package adminbot

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseAdmins parses a list of admins, comma-separated: a Telegram user
// id is a manager, "123:owner" an owner ("123:manager" is allowed too).
// Empty entries are skipped; an empty list is an empty map. Its error
// names the entry at fault and why, without the package's prefix: the
// caller prefixes the name of the setting it read.
func ParseAdmins(list string) (map[int64]Role, error) {
	ids := map[int64]Role{}
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		idText, role, _ := strings.Cut(f, ":")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%q is not a Telegram user id", f)
		}
		switch strings.ToLower(role) {
		case "", "manager":
			ids[id] = RoleManager
		case "owner":
			ids[id] = RoleOwner
		default:
			return nil, fmt.Errorf("role %q of %d is not owner or manager", role, id)
		}
	}
	return ids, nil
}
