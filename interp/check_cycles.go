package interp

import (
	"fmt"
	"strings"

	"github.com/llmpipe/llmpipe/lang"
)

// findCycles reports each cycle of "reads from" once, at the `from` of its
// first step in source order, and marks every step in or after it.
func (c *checker) findCycles(steps []*decl) {
	reported := map[*decl]bool{}
	for _, d := range steps {
		var path []*decl
		at := map[*decl]int{}
		for x := d; x != nil && x.step != nil; x = x.step.from {
			if i, seen := at[x]; seen {
				cycle := path[i:]
				for _, y := range path {
					y.step.bad = true
				}
				if !reported[cycle[0]] {
					c.reportCycle(cycle, reported)
				}
				break
			}
			if x.step.bad {
				for _, y := range path {
					y.step.bad = true
				}
				break
			}
			at[x] = len(path)
			path = append(path, x)
		}
	}
}

func (c *checker) reportCycle(cycle []*decl, reported map[*decl]bool) {
	// Start the path at the cycle's first step in source order.
	first := 0
	for i, x := range cycle {
		reported[x] = true
		if x.block.Range.Start.Offset < cycle[first].block.Range.Start.Offset {
			first = i
		}
	}
	cycle = append(cycle[first:], cycle[:first]...)
	names := make([]string, 0, len(cycle)+1)
	for _, x := range cycle {
		names = append(names, x.name)
	}
	names = append(names, cycle[0].name)
	at := cycle[0].block.Name.Range
	if a := cycle[0].step.body.attrs["from"]; a != nil {
		at = a.Value.Range
	}
	help := "each step must read from a source or from a step before it"
	if len(cycle) == 1 {
		c.errorf(at, help, "step %q reads from itself", cycle[0].name)
		return
	}
	d := c.errorf(at, help, "steps read from each other in a cycle: %s", strings.Join(names, " -> "))
	for _, x := range cycle[1:] {
		if a := x.step.body.attrs["from"]; a != nil {
			d.Notes = append(d.Notes, lang.Note{Range: a.Value.Range, Message: fmt.Sprintf("step %q reads from %q here", x.name, x.step.from.name)})
		}
	}
}
