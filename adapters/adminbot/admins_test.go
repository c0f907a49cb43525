package adminbot

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseAdmins(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[int64]Role
		bad  string // a part of the error; "" = none
	}{
		{"", map[int64]Role{}, ""},
		{" 42 , ,7:owner,9:Manager", map[int64]Role{42: RoleManager, 7: RoleOwner, 9: RoleManager}, ""},
		{"42,alice", nil, `"alice" is not a Telegram user id`},
		{"-5", nil, `"-5" is not a Telegram user id`},
		{"42:king", nil, `role "king" of 42 is not owner or manager`},
	} {
		got, err := ParseAdmins(c.in)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) || got != nil {
				t.Errorf("ParseAdmins(%q) = %v, %v; want an error with %q", c.in, got, err, c.bad)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseAdmins(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}
