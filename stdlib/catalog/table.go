package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/llmpipe/llmpipe/interp"
)

//go:embed models.json
var modelsJSON []byte

// Limits are a model's quotas on one tier; 0 means no published limit.
type Limits struct {
	RPM int `json:"rpm"` // requests per minute
	TPM int `json:"tpm"` // input tokens per minute
	RPD int `json:"rpd"` // requests per day (reset at midnight Pacific)
}

// Model is one entry of the table.
type Model struct {
	ID    string
	Price interp.Price
	// LongPrice replaces Price for a call whose prompt (cached tokens
	// included) exceeds LongAbove tokens; nil for single-tier models.
	LongPrice *interp.Price
	LongAbove int
	// MinCacheTokens is the smallest content an explicit cache accepts;
	// 0 together with Caching false when the model has no explicit caching.
	MinCacheTokens int
	Caching        bool
	// Thinking is how the model thinks: ThinkingNone, ThinkingOptional (on
	// unless thinkingBudget is 0), ThinkingOff (off unless thinkingBudget
	// is set above 0) or ThinkingAlways (a budget of 0 is refused).
	Thinking string
	Notes    string

	limits      [4]Limits // free, tier 1, 2, 3
	batchTokens [4]int    // Batch Mode enqueued-token limit per tier; 0: none (free)
}

// BatchRate is what Batch Mode charges against the interactive price for
// input and output tokens; cached tokens keep the interactive cached rate.
const BatchRate = 0.5

// BatchTokens is the Batch Mode enqueued-token limit on a tier (input
// tokens summed over the model's live jobs); 0 where Batch Mode has no
// quota (the free tier) or none is published.
func (m Model) BatchTokens(tier int) int {
	if tier < 0 || tier >= len(m.batchTokens) {
		return 0
	}
	return m.batchTokens[tier]
}

// BatchPrice is a price as Batch Mode charges it: half the input and
// output prices, the same cached and storage prices.
func BatchPrice(p interp.Price) interp.Price {
	p.InputPerM *= BatchRate
	p.OutputPerM *= BatchRate
	return p
}

// FallbackMinCacheTokens is the cache minimum assumed for a model the
// table does not know: the smallest any Gemini model has had.
const FallbackMinCacheTokens = 1024

// MinCacheTokens is the one rule for the smallest content an explicit
// cache of model id accepts, shared by plan, run and the simulator: the
// table's per-model value, else FallbackMinCacheTokens. Content below it
// is sent inline.
func MinCacheTokens(id string) int {
	if m, ok := Lookup(id); ok && m.MinCacheTokens > 0 {
		return m.MinCacheTokens
	}
	return FallbackMinCacheTokens
}

// Thinking modes of a model (Model.Thinking). Thinking tokens are billed
// as output and count inside maxOutputTokens.
const (
	ThinkingNone     = "none"     // the model does not think
	ThinkingOptional = "optional" // thinks unless thinkingBudget is 0
	ThinkingOff      = "off"      // thinks only with a thinkingBudget above 0
	ThinkingAlways   = "always"   // always thinks; a thinkingBudget of 0 is refused
)

// Thinks reports whether a call with the given thinkingBudget (nil: not
// set; -1: dynamic) lets the model think.
func (m Model) Thinks(budget *int) bool {
	switch m.Thinking {
	case ThinkingAlways:
		return true
	case ThinkingOptional:
		return budget == nil || *budget != 0
	case ThinkingOff:
		return budget != nil && (*budget > 0 || *budget == -1)
	}
	return false
}

// Limits returns the quotas on a billing tier: 0 is the free tier, 1–3 the
// paid tiers. An unknown tier, or a model without a published table, gives
// all zeros (no known limit).
func (m Model) Limits(tier int) Limits {
	if tier < 0 || tier >= len(m.limits) {
		return Limits{}
	}
	return m.limits[tier]
}

// Lookup finds a model by id. It accepts the API's "models/" prefix and
// versioned or dated ids ("gemini-2.5-flash-001",
// "gemini-2.5-flash-lite-preview-09-2025") by the longest known id they
// extend with a version suffix. A different model that merely shares a
// prefix ("gemini-2.5-flash-image") is not found: pricing it as its base
// model would be wrong.
func Lookup(id string) (Model, bool) {
	// Every call's cost and every budget reservation price their model
	// here: remembering the answer per id saves the normalising and, for an
	// unknown id, a walk of the whole table, per call.
	if memo := lookupMemo.Load(); memo != nil {
		if r, ok := (*memo)[id]; ok {
			return r.m, r.ok
		}
	}
	m, ok := lookup(id)
	rememberLookup(id, m, ok)
	return m, ok
}

// lookupResult is one remembered answer of Lookup.
type lookupResult struct {
	m  Model
	ok bool
}

// lookupMemo maps ids as given to Lookup's answers. It is copied on write
// (ids are few and are all asked for early), so readers take no lock.
var (
	lookupMemo   atomic.Pointer[map[string]lookupResult]
	lookupMemoMu sync.Mutex
)

// maxLookupMemo bounds the memo: ids come from pipelines and stores, a
// handful per run, but nothing should grow without end.
const maxLookupMemo = 512

func rememberLookup(id string, m Model, ok bool) {
	lookupMemoMu.Lock()
	defer lookupMemoMu.Unlock()
	var old map[string]lookupResult
	if p := lookupMemo.Load(); p != nil {
		old = *p
	}
	if len(old) >= maxLookupMemo {
		return
	}
	next := make(map[string]lookupResult, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[id] = lookupResult{m: m, ok: ok}
	lookupMemo.Store(&next)
}

// lookup is Lookup without the memo.
func lookup(id string) (Model, bool) {
	t := table()
	id = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(id), "models/"))
	if m, ok := t[id]; ok {
		return m, true
	}
	best := ""
	for k := range t {
		rest, ok := strings.CutPrefix(id, k+"-")
		if ok && len(k) > len(best) && isVersion(rest) {
			best = k
		}
	}
	if best == "" {
		return Model{}, false
	}
	return t[best], true
}

// isVersion reports whether an id suffix names a version of the same
// model: a number ("001"), or a preview, experimental or latest tag.
func isVersion(suffix string) bool {
	first, _, _ := strings.Cut(suffix, "-")
	switch first {
	case "preview", "exp", "latest":
		return true
	case "":
		return false
	}
	return strings.Trim(first, "0123456789") == ""
}

// IDs lists the known model ids, sorted (for help text and suggestions).
func IDs() []string {
	t := table()
	ids := make([]string, 0, len(t))
	for k := range t {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	return ids
}

// table parses the embedded file once. It is part of the binary, so a
// parse failure is a build defect and panics (and fails the package tests).
var table = sync.OnceValue(func() map[string]Model {
	t, err := parse(modelsJSON)
	if err != nil {
		panic(fmt.Sprintf("catalog: embedded models.json: %v", err))
	}
	return t
})

// The file's shape; kept apart from Model so the public type can change
// without touching the data.
type (
	fileJSON struct {
		About  string               `json:"_about"`
		Models map[string]modelJSON `json:"models"`
	}
	priceJSON struct {
		Input          float64 `json:"input"`
		Output         float64 `json:"output"`
		Cached         float64 `json:"cached"`
		StoragePerHour float64 `json:"storage_per_hour"`
	}
	modelJSON struct {
		Price       priceJSON `json:"price"`
		LongContext *struct {
			AbovePromptTokens int       `json:"above_prompt_tokens"`
			Price             priceJSON `json:"price"`
		} `json:"long_context"`
		MinCacheTokens int               `json:"min_cache_tokens"`
		NoCaching      bool              `json:"no_caching"`
		Thinking       string            `json:"thinking"`
		Limits         map[string]Limits `json:"limits"`
		BatchTokens    map[string]int    `json:"batch_tokens"`
		Notes          string            `json:"notes"`
	}
)

var tierNames = [...]string{"free", "tier1", "tier2", "tier3"}

func (p priceJSON) price() interp.Price {
	return interp.Price{InputPerM: p.Input, OutputPerM: p.Output, CachedPerM: p.Cached, StoragePerMHour: p.StoragePerHour}
}

func parse(data []byte) (map[string]Model, error) {
	var f fileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	// A misspelt key in the table would silently price a model at zero.
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	out := make(map[string]Model, len(f.Models))
	for id, mj := range f.Models {
		m := Model{
			ID:             id,
			Price:          mj.Price.price(),
			MinCacheTokens: mj.MinCacheTokens,
			Caching:        !mj.NoCaching,
			Thinking:       mj.Thinking,
			Notes:          mj.Notes,
		}
		switch m.Thinking {
		case "":
			m.Thinking = ThinkingNone
		case ThinkingNone, ThinkingOptional, ThinkingOff, ThinkingAlways:
		default:
			return nil, fmt.Errorf("model %q: unknown thinking %q", id, m.Thinking)
		}
		if lc := mj.LongContext; lc != nil {
			if lc.AbovePromptTokens <= 0 {
				return nil, fmt.Errorf("model %q: long_context needs above_prompt_tokens", id)
			}
			p := lc.Price.price()
			m.LongPrice, m.LongAbove = &p, lc.AbovePromptTokens
		}
		if m.Caching && m.MinCacheTokens <= 0 {
			return nil, fmt.Errorf("model %q: min_cache_tokens missing (or set no_caching)", id)
		}
		for name, l := range mj.Limits {
			i := tierIndex(name)
			if i < 0 {
				return nil, fmt.Errorf("model %q: unknown tier %q", id, name)
			}
			m.limits[i] = l
		}
		for name, n := range mj.BatchTokens {
			i := tierIndex(name)
			if i < 0 {
				return nil, fmt.Errorf("model %q: unknown tier %q in batch_tokens", id, name)
			}
			m.batchTokens[i] = n
		}
		out[id] = m
	}
	return out, nil
}

func tierIndex(name string) int {
	for i, n := range tierNames {
		if n == name {
			return i
		}
	}
	return -1
}
