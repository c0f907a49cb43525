// Package projections folds the event log into read models (PostgreSQL for
// analysts, in memory by default). It arrives with the domain and read-model
// issue; eventstore.Scan and eventstore.Subscribe are what it will build on.
package projections
