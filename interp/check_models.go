package interp

import (
	"fmt"
	"strings"

	"github.com/llmpipe/llmpipe/lang"
)

func (c *checker) lowerModel(d *decl) {
	b := c.readBody(d.block.Body, specs[kindModel], d.block.Name)
	m := &Model{Name: d.name, Range: d.block.Range, JSONSchema: true}
	if a := b.attrs["provider"]; a != nil {
		if p, ok := c.str(a); ok {
			if !contains(modelProviders, p) {
				c.errorf(a.Value.Range, didYouMean(p, modelProviders, "providers are \"gemini\", \"vertex\" and \"openai\""), "unknown provider %q", p)
			}
			m.Provider = p
		}
	}
	if a := b.attrs["id"]; a != nil {
		if id, ok := c.str(a); ok {
			m.ID = id
			// A block that prices its model, or names a non-Gemini
			// provider, may use any id: it says what the catalog would have.
			if m.Provider != ProviderOpenAI && b.attrs["input_price"] == nil && b.attrs["output_price"] == nil {
				c.checkModelID(id, a.Value.Range)
			}
		}
	}
	for name, a := range b.attrs {
		switch name {
		case "base_url", "api_key_env", "project", "location":
			v, ok := c.str(a)
			if !ok {
				continue
			}
			switch name {
			case "base_url":
				m.BaseURL = v
			case "api_key_env":
				m.APIKeyEnv = v
			case "project":
				m.Project = v
			case "location":
				m.Location = v
			}
		case "json_schema":
			if v, ok := c.boolean(a); ok {
				m.JSONSchema = v
			}
		case "temperature", "top_p":
			if v, ok := c.number(a); ok {
				if name == "temperature" {
					m.Temperature = &v
				} else {
					m.TopP = &v
				}
			}
		case "top_k", "thinking_budget":
			lo := 1
			if name == "thinking_budget" {
				lo = -1 // -1 asks Gemini for a dynamic budget
			}
			if v, ok := c.integer(a, lo); ok {
				if name == "top_k" {
					m.TopK = &v
				} else {
					m.ThinkingBudget = &v
				}
			}
		case "batch_tokens":
			m.BatchTokens, _ = c.integer(a, 1)
		case "max_output_tokens", "min_output_tokens", "rpm", "tpm", "rpd", "concurrency":
			v, _ := c.integer(a, 1)
			switch name {
			case "max_output_tokens":
				m.MaxOutputTokens = v
			case "min_output_tokens":
				m.MinOutputTokens = v
			case "rpm":
				m.RPM = v
			case "tpm":
				m.TPM = v
			case "rpd":
				m.RPD = v
			case "concurrency":
				m.Concurrency = v
			}
		case "input_price", "output_price", "cached_price", "storage_price":
			v, ok := c.money(a)
			if !ok {
				continue
			}
			if m.Price == nil {
				m.Price = &Price{}
			}
			switch name {
			case "input_price":
				m.Price.InputPerM = v
			case "output_price":
				m.Price.OutputPerM = v
			case "cached_price":
				m.Price.CachedPerM = v
			case "storage_price":
				m.Price.StoragePerMHour = v
			}
		}
	}
	if lo, hi := m.MinOutputTokens, m.MaxOutputTokens; lo > 0 && hi > 0 && lo > hi {
		c.errorf(b.attrs["min_output_tokens"].Value.Range, "lower min_output_tokens or raise max_output_tokens",
			"min_output_tokens %d is above max_output_tokens %d", lo, hi)
	}
	d.model = m
}

// checkModelID warns about model ids that are probably wrong. Unknown ids
// starting with "gemini-" pass unless one typo away from a known id: they
// may be models newer than this build.
func (c *checker) checkModelID(id string, r lang.Range) {
	if contains(knownModels, id) {
		return
	}
	if n := nearest(id, knownModels); n != "" {
		c.warnf(r, fmt.Sprintf("did you mean %q?", n), "unknown model %q", id)
		return
	}
	if !strings.HasPrefix(id, "gemini-") {
		c.warnf(r, "Gemini model ids start with \"gemini-\"; the request may be refused", "unknown model %q", id)
	}
}

// plainModel returns the model for a model id written as a string.
// Every mention of one id shares one Model, so the runtime paces it once.
func (c *checker) plainModel(s *lang.StringLit) *Model {
	if !contains(knownModels, s.Value) {
		// Without a model block nothing gives its prices or quota: an id
		// outside the catalog is a mistake.
		help := didYouMean(s.Value, knownModels, "known models: "+strings.Join(knownModels, ", ")+
			"; for another model, declare a model block with its id and prices")
		c.errorf(s.Range, help, "unknown model %q", s.Value)
	}
	if m, ok := c.plain[s.Value]; ok {
		return m
	}
	m := &Model{Name: s.Value, ID: s.Value, Range: s.Range}
	c.plain[s.Value] = m
	return m
}

func (c *checker) lowerLadder(d *decl) {
	v := d.block.Value
	l, ok := v.Lit.(*lang.ListLit)
	if !ok {
		c.errorf(v.Range, "write ladder NAME = [\"model-a\", \"model-b\"]", "ladder expects a list of models, but got %s", describeLit(v))
		return
	}
	ms, ok := c.modelList(l)
	if ok {
		d.ladder = ms
	}
}

// modelList resolves the elements of a list of models.
func (c *checker) modelList(l *lang.ListLit) ([]*Model, bool) {
	if len(l.Elems) == 0 {
		c.errorf(l.Range, "", "the list of models is empty")
		return nil, false
	}
	var ms []*Model
	ok := true
	for _, e := range l.Elems {
		switch lit := e.Lit.(type) {
		case *lang.StringLit:
			ms = append(ms, c.plainModel(lit))
		case *lang.RefLit:
			m := c.modelRef(lit, false)
			if m == nil {
				ok = false
				continue
			}
			ms = append(ms, m...)
		default:
			c.errorf(e.Range, "", "expected a model name or id, but got %s", describeLit(e))
			ok = false
		}
	}
	return ms, ok
}

// modelRef resolves a name to a model, or to a ladder when allowed.
func (c *checker) modelRef(r *lang.RefLit, ladders bool) []*Model {
	name := r.Dotted()
	d := c.decls[name]
	if d != nil {
		d.used = true
	}
	if d == nil || len(r.Parts) != 1 {
		var cands []string
		for _, x := range c.order {
			if x.kind == kindModel || ladders && x.kind == kindLadder {
				cands = append(cands, x.name)
			}
		}
		what := "model"
		if ladders {
			what = "ladder or model"
		}
		help := didYouMean(name, cands, "")
		if help == "" && (strings.Contains(name, "gemini") || strings.Contains(name, "-")) {
			help = fmt.Sprintf("a model id is a string: %q", name)
		}
		c.errorf(r.Range, help, "unknown %s %q", what, name)
		return nil
	}
	switch {
	case d.kind == kindModel:
		if d.model == nil {
			return nil
		}
		return []*Model{d.model}
	case d.kind == kindLadder && ladders:
		if d.ladder == nil {
			return nil
		}
		return d.ladder
	case d.kind == kindLadder:
		c.errorf(r.Range, "a ladder cannot be nested; list its models", "%q is a ladder, not a model", name)
	default:
		c.errorf(r.Range, "", "%q is a %s, not a model", name, d.kind)
	}
	return nil
}
