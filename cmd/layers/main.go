// Command layers checks the import rules between salesbot's layers
// (domain → storage → edges → application services → cmd; see
// docs/ARCHITECTURE.md). The rules are the tables in rules.go. It lists
// the packages with `go list -json` and prints every violation; it exits
// 1 if there is any, 2 if it could not check.
//
//	go run ./cmd/layers [packages]   (default ./...; make lint runs it)
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"./..."}
	}
	pkgs, err := list(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if len(pkgs) == 0 || pkgs[0].Module == nil {
		fmt.Fprintln(stderr, "layers: no packages of a module to check")
		return 2
	}
	problems, err := defaultRules.check(pkgs[0].Module.Path, pkgs)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "layers: %d violations of the import rules (cmd/layers/rules.go, docs/ARCHITECTURE.md)\n", len(problems))
		return 1
	}
	return 0
}

// list runs go list -json on patterns.
func list(patterns []string) ([]Package, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", append([]string{"list", "-json"}, patterns...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("layers: go list: %w\n%s", err, stderr.Bytes())
	}
	var pkgs []Package
	dec := json.NewDecoder(&stdout)
	for {
		var p Package
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return pkgs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("layers: read go list's output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}
