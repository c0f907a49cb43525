package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"runtime"

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
	cpuProfile                          string
}

func (p *benchParams) register(fs *flag.FlagSet, defConcurrency int) {
	fs.IntVar(&p.concurrency, "concurrency", defConcurrency, "goroutines working at once")
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

func (p *benchParams) check() error {
	if p.concurrency < 1 || p.concurrency > 10000 {
		return usagef("--concurrency must be 1..10000, got %d", p.concurrency)
	}
	return nil
}

func benchAppendCommand() *command {
	var p benchParams
	return &command{
		name:    "append",
		summary: "append events as fast as possible, durable on return, and report throughput and latency",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			p.register(fs, 64)
			fs.IntVar(&p.events, "events", 200000, "events to append in all")
			fs.IntVar(&p.payload, "payload", 200, "payload bytes per event")
			fs.IntVar(&p.batch, "batch", 1, "events per Append call")
			fs.BoolVar(&p.baseline, "baseline", false, "also measure raw synced Pebble writes")
			return func() error {
				if err := p.check(); err != nil {
					return err
				}
				switch {
				case p.events < 1:
					return usagef("--events must be at least 1, got %d", p.events)
				case p.payload < 0 || p.payload > 1<<20:
					return usagef("--payload must be 0..1048576 bytes, got %d", p.payload)
				case p.batch < 1 || p.batch > 10000:
					return usagef("--batch must be 1..10000, got %d", p.batch)
				}
				return nil
			}
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
			return nil
		},
	}
}

// benchStore opens the log a bench writes: in --data-dir, which must hold
// no events yet, or else in a temporary directory; done closes it (and
// removes the temporary directory).
func (a *app) benchStore(ctx context.Context, what string) (*eventstore.PebbleStore, func() error, error) {
	if a.cfg.set["data-dir"] {
		s, err := a.openStore(ctx, createLog)
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
			fs.IntVar(&p.batch, "page", 4096, "events per Scan call")
			return func() error {
				if p.batch < 1 || p.batch > 1<<20 {
					return usagef("--page must be 1..1048576, got %d", p.batch)
				}
				return p.check()
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			s, err := a.openStore(ctx, existingLog)
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
