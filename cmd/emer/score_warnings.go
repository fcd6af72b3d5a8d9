package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"emer/internal/openset"
	"emer/internal/unibench"
)

// A long run repeats the same warning for every checkpoint of a dataset
// ("3 sentiment predictions other than positive ..." seven times over). On
// stderr the warnings are grouped by kind: one line per kind and dataset
// with the count, the checkpoints it occurs in, the commonest values at
// fault and one example. --verbose prints the lines one by one instead,
// exactly as the JSON keeps them.

// commonValues is how many of the commonest values a grouped line names.
const commonValues = 3

// maxValueRunes bounds a value quoted in a grouped line.
const maxValueRunes = 40

// warningSource is the warnings of one scored file: a checkpoint's (named),
// or the single pair of files of score ov (name "").
type warningSource struct {
	name string
	w    *openset.Warnings
}

// groupWarnings renders the warnings of sources by kind, kinds in the order
// first met. Each line gives the count over all sources, "in K of N
// checkpoints" when there are named sources (scored is N, the checkpoints
// that were read), the commonest values when a value recurs, and the first
// example.
func groupWarnings(srcs []warningSource, scored int) []string {
	var kinds []string
	for _, s := range srcs {
		for _, k := range s.w.Kinds() {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	var out []string
	for _, k := range kinds {
		count, in := 0, 0
		values := map[string]int{}
		example := ""
		for _, s := range srcs {
			n := s.w.Count(k)
			if n == 0 {
				continue
			}
			count += n
			in++
			for v, c := range s.w.Values(k) {
				values[v] += c
			}
			if ex := s.w.Examples(k); example == "" && len(ex) > 0 {
				example = ex[0]
				if s.name != "" {
					example = s.name + ": " + example
				}
			}
		}
		line := fmt.Sprintf("%d %s", count, k)
		if srcs[0].name != "" {
			line += fmt.Sprintf(", in %d of %d checkpoints", in, scored)
		}
		if v := commonest(values); v != "" {
			line += ": " + v
		}
		if example != "" {
			line += " (e.g. " + example + ")"
		}
		out = append(out, line)
	}
	return out
}

// commonest names the commonest values with their counts, most frequent
// first and alphabetically among equals: `154 "mixed", 1 "anxious", 1
// "excitement" and 1 other value`. It is "" when no value recurs, as a list of values seen once
// each (the samples missing from one file) says nothing the count and the
// example do not.
func commonest(values map[string]int) string {
	if !slices.ContainsFunc(slices.Collect(maps.Values(values)), func(n int) bool { return n > 1 }) {
		return ""
	}
	keys := slices.SortedFunc(maps.Keys(values), func(a, b string) int {
		return cmp.Or(cmp.Compare(values[b], values[a]), cmp.Compare(a, b))
	})
	var parts []string
	for _, v := range keys[:min(len(keys), commonValues)] {
		parts = append(parts, fmt.Sprintf("%d %s", values[v], quoteValue(v)))
	}
	s := strings.Join(parts, ", ")
	switch rest := len(keys) - commonValues; {
	case rest == 1:
		s += " and 1 other value"
	case rest > 1:
		s += fmt.Sprintf(" and %d other values", rest)
	}
	return s
}

// quoteValue quotes a value, cut to maxValueRunes runes.
func quoteValue(v string) string {
	if r := []rune(v); len(r) > maxValueRunes {
		return fmt.Sprintf("%q...", string(r[:maxValueRunes]))
	}
	return fmt.Sprintf("%q", v)
}

// checkpointWarnings returns a dataset's warnings grouped by kind over the
// checkpoints that were read.
func checkpointWarnings(r *unibench.Result) []string {
	var srcs []warningSource
	for i, c := range r.Checkpoints {
		if c.Error == "" && i < len(r.CheckpointWarnings) {
			srcs = append(srcs, warningSource{c.Name, &r.CheckpointWarnings[i]})
		}
	}
	if len(srcs) == 0 {
		return nil
	}
	return groupWarnings(srcs, len(srcs))
}

// warningPrinter writes warnings to stderr, grouped by kind unless
// verbose, and says once at the end how many lines --verbose would print
// when the grouped ones leave anything out.
type warningPrinter struct {
	w       io.Writer
	verbose bool
	lines   int  // the lines one by one
	groups  int  // the lines grouped
	grouped bool // some grouped line stands for more than it says
}

// print writes one set of warnings: grouped, or every line of full, each
// after "warning: " and prefix.
func (p *warningPrinter) print(prefix string, grouped, full []string) {
	p.lines += len(full)
	p.groups += len(grouped)
	if !slices.Equal(grouped, full) {
		p.grouped = true
	}
	lines := grouped
	if p.verbose {
		lines = full
	}
	for _, l := range lines {
		fmt.Fprintf(p.w, "warning: %s%s\n", prefix, l)
	}
}

// done says what --verbose would add, if anything.
func (p *warningPrinter) done() {
	switch {
	case p.verbose || !p.grouped:
	case p.lines > p.groups:
		fmt.Fprintf(p.w, "note: warnings grouped by kind; --verbose lists the %d warning lines one by one, as the JSON keeps them\n", p.lines)
	default:
		fmt.Fprintln(p.w, "note: one example of each kind; --verbose gives more, as the JSON keeps them")
	}
}
