package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/salesbot/salesbot/domain/scenario"
)

func scenarioCommand() *command {
	return &command{name: "scenario", summary: "show the example scenario, check a scenario file or draw its stages", sub: []*command{
		{name: "example", summary: "print the shipped example scenario (a start for your own)", noArgs: true,
			run: func(_ context.Context, a *app, _ []string) error {
				_, err := a.stdout.Write(scenario.Example)
				return err
			}},
		scenarioFileCommand("check", "check a scenario file: the line and the reason of the first problem", func(a *app, file string, sc *scenario.Scenario) {
			fmt.Fprintf(a.stdout, "%s: scenario %q version %s is valid: %d stages, %d qualification fields, %d variants, %d products\n",
				file, sc.Name, sc.Version, len(sc.Stages), len(sc.Qualification.Fields), len(sc.Variants), len(sc.Knowledge.Products))
		}),
		scenarioFileCommand("graph", "print a scenario file's stages and transitions as a Mermaid flowchart",
			func(a *app, _ string, sc *scenario.Scenario) { _, _ = io.WriteString(a.stdout, sc.Mermaid()) }),
	}}
}

// scenarioFileCommand reads and parses the one scenario file it is given,
// then shows it with show.
func scenarioFileCommand(name, summary string, show func(a *app, file string, sc *scenario.Scenario)) *command {
	return &command{name: name, summary: summary, usage: "FILE", flags: func(*flag.FlagSet, *app) func() error { return nil },
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
			show(a, args[0], sc)
			return nil
		}}
}
