package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/salesbot/salesbot/domain/scenario"
)

func scenarioCommand() *command {
	return &command{
		name:    "scenario",
		summary: "show the example scenario or check a scenario file",
		sub: []*command{
			{
				name:    "example",
				summary: "print the shipped example scenario (a start for your own)",
				noArgs:  true,
				run: func(_ context.Context, a *app, _ []string) error {
					_, err := a.stdout.Write(scenario.Example)
					return err
				},
			},
			{
				name:    "check",
				summary: "check a scenario file: the line and the reason of the first problem",
				usage:   "FILE",
				flags:   func(*flag.FlagSet, *app) func() error { return nil },
				run: func(_ context.Context, a *app, args []string) error {
					if len(args) != 1 {
						return usagef("takes one scenario file")
					}
					data, err := os.ReadFile(args[0])
					if err != nil {
						return usagef("%v", err)
					}
					sc, err := scenario.Parse(data)
					if err != nil {
						return usagef("%s: %v", args[0], err)
					}
					fmt.Fprintf(a.stdout, "%s: scenario %q version %s is valid: %d stages, %d qualification fields, %d variants, %d products\n",
						args[0], sc.Name, sc.Version, len(sc.Stages), len(sc.Qualification.Fields), len(sc.Variants), len(sc.Knowledge.Products))
					return nil
				},
			},
		},
	}
}
