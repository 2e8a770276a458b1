package interp

import "github.com/llmpipe/llmpipe/lang"

// IsGemini reports whether a provider speaks to Gemini (the API, Vertex or
// the simulator), and so has its features: explicit caches, Batch Mode.
func IsGemini(provider string) bool {
	return provider == ProviderGemini || provider == ProviderVertex || provider == ProviderSim || provider == ""
}

// checkProviders gives every model its provider (the block's, else
// config's) and refuses Gemini-only features on models of other providers:
// a silent no-op would send the cache's context nowhere.
func (c *checker) checkProviders() {
	def := c.prog.Config.Provider
	if def == "" {
		def = ProviderGemini
	}
	for _, m := range c.prog.Models {
		if m.Provider == "" {
			m.Provider = def
		}
	}
	for _, s := range c.prog.Steps {
		if s.Cache == nil {
			continue
		}
		for _, m := range s.Models {
			if !IsGemini(m.Provider) {
				c.errorf(c.attrRange(s, "cache"), "an explicit cache is a Gemini feature; put the context in the step's system text for this model, or use only Gemini models in this step",
					"step %q uses cache %q, but model %q is served by provider %q", s.Name, s.Cache.Name, m.Name, m.Provider)
				break
			}
		}
	}
}

// warnUnused warns about schemas, models, ladders, caches and sources that
// nothing refers to: usually a typo elsewhere, or a leftover. Steps are work
// in themselves, and sinks and tests are used by running.
//
// Only a file without errors gets them: after an error, a block may look
// unused only because the reference to it was the mistake.
func (c *checker) warnUnused() {
	if len(c.prog.Steps) == 0 {
		return // "no steps" says it already
	}
	for _, d := range c.diags {
		if d.Severity == lang.SeverityError {
			return
		}
	}
	for _, d := range c.order {
		switch d.kind {
		case kindSchema, kindModel, kindLadder, kindCache, kindSource:
			if !d.used && d.block.Name != nil {
				c.warnf(d.block.Name.Range, "remove it, or refer to it where it was meant to be used", "%s %q is never used", d.kind, d.name)
			}
		}
	}
}

// attrRange is the range of a step attribute's value, or the step's own.
func (c *checker) attrRange(s *Step, name string) lang.Range {
	if d, ok := c.decls[s.Name]; ok && d.block.Body != nil {
		for _, e := range d.block.Body.Entries {
			if a, ok := e.(*lang.Attribute); ok && a.Name.Name == name {
				return a.Value.Range
			}
		}
	}
	return s.Range
}
