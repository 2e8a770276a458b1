package catalog

import (
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/runtime/quota"
)

// DefaultTier is the billing tier whose quotas apply when a program does
// not name one (config.tier).
const DefaultTier = 1

// Book answers the price and quota questions of one program's models. It
// is the one home of the rule
//
//	a model block's own setting › the catalog's entry › the tier default
//
// that `llmpipe run`, `plan`, reload, the cache manager and any provider
// ask: nothing else looks past a model block into the table. A Book is
// immutable once built and safe for concurrent use; build a new one for
// an edited program.
type Book struct {
	tier int
	byID map[string]*interp.Model
}

// NewBook builds the book for prog's models and configured tier.
func NewBook(prog *interp.Program) *Book {
	b := &Book{tier: prog.Config.Tier, byID: make(map[string]*interp.Model, len(prog.Models))}
	if b.tier == 0 {
		b.tier = DefaultTier
	}
	if prog.Config.FreeTier {
		b.tier = 0
	}
	for _, m := range prog.Models {
		// Several blocks may share an id; the first one's overrides stand.
		if _, ok := b.byID[m.ID]; !ok {
			b.byID[m.ID] = m
		}
	}
	return b
}

// Tier is the billing tier the book's quotas come from.
func (b *Book) Tier() int { return b.tier }

// priceFor is the price rule: the model block's own price wins, else the
// catalog's price for a prompt of promptTokens (its long-context price
// above the threshold). block may be nil (a model id no block declares);
// ok is false when neither knows a price.
func priceFor(block *interp.Model, id string, promptTokens int) (interp.Price, bool) {
	if block != nil && block.Price != nil {
		return *block.Price, true
	}
	if c, ok := Lookup(id); ok {
		return c.PriceFor(promptTokens), true
	}
	return interp.Price{}, false
}

// ModelPrice is the list price of the model block m (the short-context
// price where the catalog has two); ok is false when it has none.
func (b *Book) ModelPrice(m *interp.Model) (interp.Price, bool) {
	return priceFor(m, m.ID, 0)
}

// Price is ModelPrice without the ok: zero for an unknown price (the
// shape runtime.Options.Price takes).
func (b *Book) Price(m *interp.Model) interp.Price {
	p, _ := b.ModelPrice(m)
	return p
}

// PriceOf is the list price of a model by id: its first block's, else the
// catalog's (the shape the cache manager takes).
func (b *Book) PriceOf(id string) interp.Price {
	p, _ := priceFor(b.byID[id], id, 0)
	return p
}

// Cost prices one call of model id in dollars, with the catalog's
// long-context price when the prompt passes its threshold; 0 for a model
// without a price.
func (b *Book) Cost(id string, u runtime.Usage) runtime.Money {
	p, ok := priceFor(b.byID[id], id, u.PromptTokens)
	if !ok {
		return 0
	}
	return Cost(p, u)
}

// Limits is the quota of the model block m: each of its rpm, tpm and rpd
// that is set, else the catalog's figure for the book's tier (0: no
// known limit); the concurrency cap is the block's alone. The tier table
// is the Gemini API's: Vertex (a shared, dynamic quota) and other providers
// get only the block's limits, and the pacer adapts to their 429s.
func (b *Book) Limits(m *interp.Model) quota.Limits {
	lim := quota.Limits{RPM: m.RPM, TPM: m.TPM, RPD: m.RPD, Concurrency: m.Concurrency}
	if m.Provider == interp.ProviderVertex || m.Provider == interp.ProviderOpenAI {
		return lim
	}
	if c, ok := Lookup(m.ID); ok {
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

// Caching says whether explicit caching is open to the model block m and
// the smallest content it accepts: the catalog's entry, except that a
// block with its own price is taken to cache; a model the catalog does not
// know is assumed to cache. The minimum is MinCacheTokens, the rule the
// simulator shares.
func (b *Book) Caching(m *interp.Model) (minTokens int, ok bool) {
	c, known := Lookup(m.ID)
	return MinCacheTokens(m.ID), !known || c.Caching || m.Price != nil
}

// BatchCost prices one Batch Mode call of model id: Cost at BatchPrice
// (half the input and output prices, the interactive cached rate).
func (b *Book) BatchCost(id string, u runtime.Usage) runtime.Money {
	p, ok := priceFor(b.byID[id], id, u.PromptTokens)
	if !ok {
		return 0
	}
	return Cost(BatchPrice(p), u)
}

// BatchPrice is the model block m's price in Batch Mode (for budget
// reservations).
func (b *Book) BatchPrice(m *interp.Model) interp.Price {
	return BatchPrice(b.Price(m))
}

// BatchTokens is the model block m's Batch Mode enqueued-token limit: its
// batch_tokens, else the catalog's for the book's tier (0: none known).
func (b *Book) BatchTokens(m *interp.Model) int {
	if m.BatchTokens > 0 {
		return m.BatchTokens
	}
	if c, ok := Lookup(m.ID); ok {
		return c.BatchTokens(b.tier)
	}
	return 0
}
