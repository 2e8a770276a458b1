package llmpipe

import (
	"context"
	"regexp"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime/pipetest"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
)

// TestOptions configures Pipeline.Test.
type TestOptions struct {
	// Run, when set, picks the tests whose name it matches.
	Run *regexp.Regexp
}

// Test runs the pipeline's test blocks, in file order: each sends one item
// through the real step with the replies the test gives, in process (no
// network, no store), and evaluates its expect lines.
func (p *Pipeline) Test(ctx context.Context, opts TestOptions) []*pipetest.Result {
	if p.Program == nil {
		return nil
	}
	prog := p.Program
	if opts.Run != nil {
		picked := *prog
		picked.Tests = nil
		for _, t := range prog.Tests {
			if opts.Run.MatchString(t.Name) {
				picked.Tests = append(picked.Tests, t)
			}
		}
		prog = &picked
	}
	return pipetest.Run(ctx, prog, pipetest.Options{Cost: catalog.NewBook(prog).Cost})
}

// Tests lists the pipeline's test blocks.
func (p *Pipeline) Tests() []*interp.Test {
	if p.Program == nil {
		return nil
	}
	return p.Program.Tests
}
