package bitrix24test

import (
	"time"

	"github.com/salesbot/salesbot/adapters/crm/crmtest"
)

// Clock is a fake clock for the client (bitrix24.Options.Clock): crmtest.Clock.
type Clock = crmtest.Clock

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return crmtest.NewClock(t) }
