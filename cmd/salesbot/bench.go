package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"runtime"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storebench"
)

// printBench prints a bench's result: one JSON line, or its text.
func printBench(a *app, res fmt.Stringer, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(a.stdout, string(b))
		return
	}
	fmt.Fprintln(a.stdout, res)
}

func (p benchParams) params() storebench.Params {
	return storebench.Params{Concurrency: p.concurrency, Events: p.events, Payload: p.payload, Batch: p.batch}
}

type benchParams struct {
	concurrency, events, payload, batch int
	asJSON, baseline                    bool
	cpuProfile, logURL                  string
}

func (p *benchParams) register(fs *flag.FlagSet, defConcurrency int) {
	cli.IntRange(fs, &p.concurrency, "concurrency", defConcurrency, 1, 10000, "goroutines working at once")
	fs.BoolVar(&p.asJSON, "json", false, "print one JSON line per result")
	fs.StringVar(&p.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
}

// profile starts the CPU profile if asked; the returned func stops it.
func (p *benchParams) profile() (func(), error) {
	stop, err := storebench.CPUProfile(p.cpuProfile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return stop, nil
}

func benchAppendCommand() *command {
	var p benchParams
	return &command{
		name:    "append",
		summary: "append events as fast as possible, durable on return, and report throughput and latency",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			p.register(fs, 64)
			cli.IntRange(fs, &p.events, "events", 200000, 1, math.MaxInt, "events to append in all")
			cli.IntRange(fs, &p.payload, "payload", 200, 0, 1<<20, "payload bytes per event")
			cli.IntRange(fs, &p.batch, "batch", 1, 1, 10000, "events per Append call")
			fs.BoolVar(&p.baseline, "baseline", false, "also measure raw synced Pebble writes")
			datadir.LogFlag(fs, &p.logURL, a.getenv)
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			s, done, err := a.benchStore(ctx, "append")
			if err != nil {
				return err
			}
			stop, err := p.profile()
			if err != nil {
				done()
				return err
			}
			res, err := storebench.Append(ctx, s, p.params())
			stop()
			if cerr := done(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			printBench(a, res, p.asJSON)
			if p.baseline {
				raw, err := storebench.RawPebble(p.params())
				if err != nil {
					return fmt.Errorf("raw pebble baseline: %w", err)
				}
				printBench(a, raw, p.asJSON)
			}
			if p.logURL != "" { // the same on JetStream, printed after Pebble's
				return a.cfg.BenchLog(ctx, p.logURL, p.params(), a.log, a.stderr, func(r storebench.Result) { printBench(a, r, p.asJSON) })
			}
			return nil
		},
	}
}

// benchStore opens the log a bench writes: in --data-dir, which must hold
// no events yet, or else in a temporary directory; done closes it (and
// removes the temporary directory).
func (a *app) benchStore(ctx context.Context, what string) (*eventstore.PebbleStore, func() error, error) {
	if a.cfg.Set["data-dir"] {
		s, err := a.openPebble(ctx, datadir.Create)
		if err == nil && s.Head() > 0 {
			s.Close()
			return nil, nil, usagef("--data-dir %s already holds %d events; bench %s needs an empty directory", a.cfg.DataDir, s.Head(), what)
		}
		return s, func() error { return s.Close() }, err
	}
	return storebench.OpenTemp(a.log)
}

func benchReadCommand() *command {
	var p benchParams
	return &command{
		name:    "read",
		summary: "read the whole log back, decoded, and report throughput",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			p.register(fs, runtime.GOMAXPROCS(0))
			cli.IntRange(fs, &p.batch, "page", 4096, 1, 1<<20, "events per Scan call")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			s, err := a.openStore(ctx, datadir.Existing)
			if err != nil {
				return err
			}
			defer s.Close()
			stop, err := p.profile()
			if err != nil {
				return err
			}
			res, err := storebench.Read(ctx, s, p.params())
			stop()
			if err != nil {
				return err
			}
			printBench(a, res, p.asJSON)
			return nil
		},
	}
}
