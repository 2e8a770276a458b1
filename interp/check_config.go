package interp

import "github.com/llmpipe/llmpipe/lang"

// lowerConfig reads the config block, if any, over the defaults.
func (c *checker) lowerConfig() {
	b := c.configBlock
	if b == nil {
		return
	}
	body := c.readBody(b.Body, specs[kindConfig], &b.Kind)
	cfg := &c.prog.Config
	if a := body.attrs["workers"]; a != nil {
		n, isNum := a.Value.Lit.(*lang.NumberLit)
		switch r, isRef := a.Value.Lit.(*lang.RefLit); {
		case isRef && r.Dotted() == "auto":
			cfg.Workers = 0
		case isNum && n.IsInt:
			cfg.Workers, _ = c.integer(a, 0)
			if cfg.Workers > MaxWorkers {
				c.errorf(a.Value.Range, "no quota needs more calls in flight; a worker past that costs only memory and time",
					"workers must be at most %d, but is %d", MaxWorkers, cfg.Workers)
				cfg.Workers = MaxWorkers
			}
		default:
			c.wrongKind(a, "an integer", "write a number of workers, or auto")
		}
	}
	if a := body.attrs["max_workers"]; a != nil {
		cfg.MaxWorkers, _ = c.integer(a, 1)
	}
	if a := body.attrs["budget"]; a != nil {
		cfg.Budget, _ = c.money(a)
	}
	if a := body.attrs["store"]; a != nil {
		if p, ok := c.str(a); ok {
			cfg.Store = c.path(p)
		}
	}
	if a := body.attrs["provider"]; a != nil {
		if p, ok := c.str(a); ok {
			if !contains(providers, p) {
				help := didYouMean(p, providers, "providers are \"gemini\", \"vertex\" and \"sim\"")
				if p == ProviderOpenAI {
					help = "an OpenAI-compatible server is named per model: model NAME { provider = \"openai\" … }"
				}
				c.errorf(a.Value.Range, help, "unknown provider %q", p)
			} else {
				cfg.Provider = p
			}
		}
	}
	if a := body.attrs["batch"]; a != nil {
		cfg.Batch, _ = c.boolean(a)
	}
	for _, name := range []string{"project", "location"} {
		if a := body.attrs[name]; a != nil {
			if v, ok := c.str(a); ok {
				if name == "project" {
					cfg.Project = v
				} else {
					cfg.Location = v
				}
			}
		}
	}
	if a := body.attrs["tier"]; a != nil {
		if r, isRef := a.Value.Lit.(*lang.RefLit); isRef && r.Dotted() == "free" {
			cfg.FreeTier = true
		} else if v, ok := c.integer(a, 1); ok {
			if v > 3 {
				c.errorf(a.Value.Range, "Gemini API tiers are 1, 2 and 3", "unknown tier %d", v)
			} else {
				cfg.Tier = v
			}
		}
	}
}
