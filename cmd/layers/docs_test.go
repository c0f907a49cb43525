package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docs/ARCHITECTURE.md stays true: every file and package it names in
// code spans exists, and every layer of the rules is drawn.
func TestArchitectureNamesWhatExists(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	tops := []string{"cmd/", "domain/", "eventstore/", "projections/", "adapters/", "migrations/"}
	named := 0
	for _, m := range regexp.MustCompile("`([^`\\s]+)`").FindAllStringSubmatch(doc, -1) {
		path := m[1]
		if strings.Contains(path, "...") || !slices.ContainsFunc(tops, func(top string) bool { return strings.HasPrefix(path, top) }) {
			continue // not a path of the tree (net/..., go run ...)
		}
		named++
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(path))); err != nil {
			t.Errorf("docs/ARCHITECTURE.md names %s, which does not exist", path)
		}
	}
	if named < 30 {
		t.Fatalf("only %d paths found in docs/ARCHITECTURE.md", named)
	}
	for _, l := range layers {
		for _, p := range l.pkgs {
			p = strings.TrimSuffix(p, "/...")
			if p != "adapters" && !strings.Contains(doc, p) {
				t.Errorf("docs/ARCHITECTURE.md does not draw %s (layer %s)", p, l.name)
			}
		}
	}
}
