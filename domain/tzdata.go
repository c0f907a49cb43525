package domain

// Working hours, daily caps and campaign windows are wall-clock times in
// each account's time zone (Limits.TimeZone). The zone database is built
// into the binary, so a machine or container without zone files never
// falls back to UTC and sends at night.
import _ "time/tzdata"
