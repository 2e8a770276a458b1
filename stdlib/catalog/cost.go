package catalog

import (
	"math"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// PriceFor is the price of a call whose prompt (cached tokens included)
// has promptTokens tokens: the long-context price above the threshold.
func (m Model) PriceFor(promptTokens int) interp.Price {
	if m.LongPrice != nil && promptTokens > m.LongAbove {
		return *m.LongPrice
	}
	return m.Price
}

// Cost prices one call of this model, choosing the tier from the prompt size.
func (m Model) Cost(u runtime.Usage) runtime.Money {
	return Cost(m.PriceFor(u.PromptTokens), u)
}

// BatchCost prices one batch call of this model, choosing the tier from the
// prompt size as Cost does.
func (m Model) BatchCost(u runtime.Usage) runtime.Money {
	return Cost(BatchPrice(m.PriceFor(u.PromptTokens)), u)
}

// Cost prices one call at a single price tier (Model.Cost picks the tier),
// exactly to the nano-dollar. The API's prompt count includes cached
// tokens, so only the rest pays the full input price; thinking tokens are
// billed as output.
func Cost(p interp.Price, u runtime.Usage) runtime.Money {
	cached := min(max(u.CachedTokens, 0), max(u.PromptTokens, 0))
	fresh := max(u.PromptTokens, 0) - cached
	output := max(u.OutputTokens, 0) + max(u.ThinkingTokens, 0)
	return TokensCost(fresh, p.InputPerM) + TokensCost(cached, p.CachedPerM) + TokensCost(output, p.OutputPerM)
}

// TokensCost is what n tokens cost at perM dollars per million tokens,
// rounded to the nano-dollar: a price per million in dollars is a price
// per token in milli-nano-dollars, so n×perM×1000 is nano-dollars, exact
// for every price with up to three decimals.
func TokensCost(n int, perM float64) runtime.Money {
	if n <= 0 {
		return 0
	}
	return runtime.Money(math.Round(float64(n) * perM * 1e3))
}

// StorageCost is what keeping tokens in an explicit cache for d costs.
func StorageCost(p interp.Price, tokens int, d time.Duration) float64 {
	if tokens <= 0 || d <= 0 {
		return 0
	}
	return float64(tokens) * d.Hours() * p.StoragePerMHour / 1e6
}
