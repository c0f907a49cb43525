package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// layer is a named set of package patterns (see layers).
type layer struct {
	name string
	pkgs []string
}

// exception allows tests of from to import to (see testUpward).
type exception struct {
	from, to string
	why      string
}

// ioRule forbids a layer's packages some imports and some dependencies.
type ioRule struct {
	layer   string
	imports []string // direct imports of non-test files
	deps    []string // anything the package depends on
}

// clockRule forbids a layer's non-test files some functions of package
// time, but in the packages of except.
type clockRule struct {
	layer  string
	funcs  []string
	except map[string]string
}

// Package is what the check needs of a package: `go list -json` output.
type Package struct {
	ImportPath   string
	Dir          string
	GoFiles      []string // non-test Go files
	CgoFiles     []string
	Imports      []string // of GoFiles and CgoFiles
	Deps         []string // every dependency of the non-test build
	TestImports  []string // of _test.go files in the package
	XTestImports []string // of _test.go files in package x_test
	Module       *struct{ Path string }
}

// rules are the rules one check applies; the tables in rules.go unless a
// test gives its own.
type rules struct {
	layers        []layer
	upwardMessage map[[2]string]string
	testUpward    []exception
	io            ioRule
	clock         clockRule
}

var defaultRules = rules{layers: layers, upwardMessage: upwardMessage, testUpward: testUpward, io: domainIO, clock: domainClock}

// check applies r to the packages of module among pkgs and returns every
// violation, one line each, in package order.
func (r rules) check(module string, pkgs []Package) ([]string, error) {
	var out []string
	deps := map[string][]string{} // of the module's packages
	for _, p := range pkgs {
		deps[p.ImportPath] = p.Deps
	}
	add := func(pkg, format string, args ...any) {
		out = append(out, pkg+": "+fmt.Sprintf(format, args...))
	}
	inModule := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		rel, ok := strings.CutPrefix(path, module+"/")
		return rel, ok
	}
	for _, p := range pkgs {
		rel, ok := inModule(p.ImportPath)
		if !ok {
			continue
		}
		from, ok := r.layerOf(rel)
		if !ok {
			add(rel, "is in no layer: add it to the layers table in cmd/layers/rules.go")
			continue
		}
		// Layers, for the package's own files and then its tests.
		for _, imp := range p.Imports {
			to, ok := inModule(imp)
			if !ok {
				continue
			}
			if msg := r.upward(from, to); msg != "" {
				add(rel, "imports %s: %s", to, msg)
			}
		}
		for _, imp := range uniq(p.TestImports, p.XTestImports) {
			to, ok := inModule(imp)
			if !ok || to == rel {
				continue
			}
			if msg := r.upward(from, to); msg != "" && !r.testAllowed(rel, to) {
				add(rel, "tests import %s: %s (a test that needs it is listed in testUpward, with why)", to, msg)
			}
		}
		// I/O and the clock.
		if from.name == r.io.layer {
			for _, imp := range p.Imports {
				if matchAny(r.io.imports, imp) {
					add(rel, "imports %s: %s does no I/O", imp, r.io.layer)
				}
			}
			// Each forbidden dependency once, and only where it comes in:
			// not through an import the check blames already.
			for _, pattern := range r.io.deps {
				dep, ok := firstMatch(pattern, p.Deps)
				if !ok || slices.ContainsFunc(p.Imports, func(imp string) bool {
					_, below := firstMatch(pattern, deps[imp])
					return below || matchAny(r.io.imports, imp) && match(pattern, imp)
				}) {
					continue
				}
				add(rel, "depends on %s: %s does no I/O (go list -deps %s shows through what)", dep, r.io.layer, p.ImportPath)
			}
		}
		if from.name == r.clock.layer {
			if _, ok := r.clock.except[rel]; !ok {
				found, err := r.clockCalls(p)
				if err != nil {
					return nil, err
				}
				for _, f := range found {
					add(rel, "%s: %s reads no clock and waits for none: pass the time in", f, r.clock.layer)
				}
			}
		}
	}
	return out, nil
}

// layerOf returns the layer of a package (a path inside the module):
// the layer of the longest pattern that matches it.
func (r rules) layerOf(rel string) (layer, bool) {
	var (
		in   layer
		best = -1
	)
	for _, l := range r.layers {
		for _, p := range l.pkgs {
			if match(p, rel) && len(p) > best {
				in, best = l, len(p)
			}
		}
	}
	return in, best >= 0
}

// upward returns why from may not import to ("" if it may).
func (r rules) upward(from layer, to string) string {
	l, ok := r.layerOf(to)
	if !ok {
		return "" // reported as a package in no layer
	}
	if r.index(l) <= r.index(from) {
		return ""
	}
	if msg, ok := r.upwardMessage[[2]string{from.name, l.name}]; ok {
		return fmt.Sprintf("%s (%s → %s)", msg, from.name, l.name)
	}
	return fmt.Sprintf("imports upward (%s → %s)", from.name, l.name)
}

func (r rules) index(l layer) int {
	return slices.IndexFunc(r.layers, func(x layer) bool { return x.name == l.name })
}

func (r rules) testAllowed(from, to string) bool {
	return slices.ContainsFunc(r.testUpward, func(e exception) bool { return e.from == from && e.to == to })
}

// clockCalls returns where the package's non-test files use a forbidden
// function of package time, as file:line time.F.
func (r rules) clockCalls(p Package) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	for _, name := range append(slices.Clone(p.GoFiles), p.CgoFiles...) {
		path := filepath.Join(p.Dir, name)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("layers: %w", err)
		}
		local := "" // the name package time has in this file
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "time" {
				local = "time"
				if imp.Name != nil {
					local = imp.Name.Name
				}
			}
		}
		if local == "" || local == "_" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == local && slices.Contains(r.clock.funcs, sel.Sel.Name) {
				pos := fset.Position(sel.Pos())
				out = append(out, fmt.Sprintf("%s:%d uses time.%s", name, pos.Line, sel.Sel.Name))
			}
			return true
		})
	}
	return out, nil
}

// match reports whether path matches pattern: "x/..." matches x and every
// path below it, any other pattern only itself.
func match(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func matchAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(p, path) })
}

// firstMatch returns the first of paths that pattern matches.
func firstMatch(pattern string, paths []string) (string, bool) {
	i := slices.IndexFunc(paths, func(p string) bool { return match(pattern, p) })
	if i < 0 {
		return "", false
	}
	return paths[i], true
}

func uniq(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
