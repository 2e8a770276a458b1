package llmpipe

import (
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/runtime/quota"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
)

// priceBook answers price and quota questions for a program's models: a
// model block's own settings win, then the built-in catalog for the
// configured tier.
type priceBook struct {
	tier int
	byID map[string]*interp.Model
}

func newPriceBook(prog *interp.Program) *priceBook {
	b := &priceBook{tier: prog.Config.Tier, byID: map[string]*interp.Model{}}
	if b.tier == 0 {
		b.tier = 1
	}
	for _, m := range prog.Models {
		// Several blocks may share an id; the first one's overrides stand.
		if _, ok := b.byID[m.ID]; !ok {
			b.byID[m.ID] = m
		}
	}
	return b
}

func (b *priceBook) modelPrice(m *interp.Model) interp.Price {
	if m.Price != nil {
		return *m.Price
	}
	if c, ok := catalog.Lookup(m.ID); ok {
		return c.Price
	}
	return interp.Price{}
}

func (b *priceBook) priceOf(id string) interp.Price {
	if m := b.byID[id]; m != nil {
		return b.modelPrice(m)
	}
	if c, ok := catalog.Lookup(id); ok {
		return c.Price
	}
	return interp.Price{}
}

// cost prices one call, with the long-context tier where the catalog has one.
func (b *priceBook) cost(id string, u runtime.Usage) float64 {
	if m := b.byID[id]; m != nil && m.Price != nil {
		return catalog.Cost(*m.Price, u)
	}
	if c, ok := catalog.Lookup(id); ok {
		return c.Cost(u)
	}
	return 0
}

func (b *priceBook) limits(m *interp.Model) quota.Limits {
	lim := quota.Limits{RPM: m.RPM, TPM: m.TPM, RPD: m.RPD, Concurrency: m.Concurrency}
	if c, ok := catalog.Lookup(m.ID); ok {
		t := c.Limits(b.tier)
		if lim.RPM == 0 {
			lim.RPM = t.RPM
		}
		if lim.TPM == 0 {
			lim.TPM = t.TPM
		}
		if lim.RPD == 0 {
			lim.RPD = t.RPD
		}
	}
	return lim
}
