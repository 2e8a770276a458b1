package caches

import (
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

// Costs is what the run's caches cost (the runtime's type: the runner
// adds it to its Summary).
type Costs = runtime.CacheCosts

// Costs returns the caches' costs so far (storage up to now for live
// caches). Storage is billed for nominal time: on a simulator with a
// compressed minute, real time lived divided by Options.TimeScale.
func (m *Manager) Costs() Costs {
	m.mu.Lock()
	all := append([]*entry(nil), m.retired...)
	for _, e := range m.entries {
		all = append(all, e)
	}
	m.mu.Unlock()
	var c Costs
	now := m.opts.Now()
	for _, e := range all {
		select {
		case <-e.ready:
		default:
			continue
		}
		if e.inline {
			c.Inline++
			continue
		}
		if e.name == "" {
			continue
		}
		c.Caches++
		c.Tokens += e.tokens
		c.Creation += m.creationCost(e)
		lived := time.Duration(float64(e.lived(now)) / m.opts.TimeScale)
		c.Storage += StorageCost(m.price(e.model), e.tokens, lived)
	}
	return c
}

func (m *Manager) price(model string) interp.Price {
	if m.opts.Price == nil {
		return interp.Price{}
	}
	return m.opts.Price(model)
}

func (m *Manager) creationCost(e *entry) float64 {
	return float64(e.tokens) * m.price(e.model).InputPerM / 1e6
}

// StorageCost prices tokens stored for d.
func StorageCost(p interp.Price, tokens int, d time.Duration) float64 {
	if tokens <= 0 || d <= 0 {
		return 0
	}
	return float64(tokens) * p.StoragePerMHour / 1e6 * d.Hours()
}

// BreakEven is how many uses per hour make a cache of this model pay for
// its storage: each use saves (input − cached) per token, storage costs
// storage per token-hour, so u ≥ storage / (input − cached). ok is false
// when a use saves nothing, so no rate of use pays off.
func BreakEven(p interp.Price) (perHour float64, ok bool) {
	saving := p.InputPerM - p.CachedPerM
	if saving <= 0 {
		return 0, false
	}
	return p.StoragePerMHour / saving, true
}
