package interp

import (
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/lang"
)

// Program is a checked pipeline: every name resolved, every expression and
// template compiled. It is immutable after Check and safe to share between
// goroutines.
type Program struct {
	File    string // the .llmp path as the user gave it
	Dir     string // directory that relative paths resolve against
	Sources []*Source
	Schemas []*Schema
	Models  []*Model // every model a step uses, declared or built from a plain id
	Caches  []*Cache
	Steps   []*Step // in dependency order: a step comes after the step it reads from
	Sinks   []*Sink
	Tests   []*Test // test blocks, in source order
	Config  Config
	// Reads lists every file the program depends on (sources, file(...)
	// arguments), absolute, so a watcher knows what to follow.
	Reads []string
}

// Source reads items. Kind is one of "jsonl", "csv", "lines", "files", "json";
// Path is absolute (resolved against Program.Dir) — a glob for "files".
type Source struct {
	Name  string
	Range lang.Range
	Kind  string
	Path  string
	ID    *Expr // nil: the item's 1-based position in the source
	Where *Expr // nil: every item; env: item
	Limit int   // 0: no limit
	// Schema, when set (jsonl and json only), is the schema every item
	// must fit: the source fails an item that does not (Schema.FitItem).
	Schema *Schema
	// Item is the type of an item, when the checker knows it: Schema's
	// type, or for csv one string field per column of the header it read.
	// nil: the item is an untyped map.
	Item *Type
}

// Schema is a named structured output.
type Schema struct {
	Name  string
	Range lang.Range
	Type  *Type // always KindObject

	// The Gemini form is built once: every request of a step sends it.
	geminiOnce sync.Once
	gemini     map[string]any
	hash       string
}

// TypeKind is the kind of a schema type.
type TypeKind int

const (
	KindString TypeKind = iota
	KindInt
	KindFloat
	KindBool
	KindEnum // string restricted to Enum
	KindList
	KindObject
)

// Type is a schema type.
type Type struct {
	Kind   TypeKind
	Elem   *Type    // KindList
	Fields []*Field // KindObject, in declaration order
	Enum   []string // KindEnum
}

// Field is one field of an object type.
type Field struct {
	Name     string
	Type     *Type
	Optional bool
	Doc      string
}

// Model is one model a step can call. Name is the block name, or the id for
// a model written as a plain string.
type Model struct {
	Name  string
	ID    string // the model id, e.g. "gemini-2.5-flash"
	Range lang.Range

	// Provider serves the model: ProviderGemini, ProviderVertex,
	// ProviderOpenAI or ProviderSim; the model block's, else config's.
	Provider  string
	BaseURL   string // "" means the provider's default endpoint
	APIKeyEnv string // openai: the variable holding the key ("" means OPENAI_API_KEY)
	// JSONSchema (openai) sends the schema as a strict response_format;
	// false describes it in a JSON-only instruction instead.
	JSONSchema bool
	Project    string // vertex; "" means config's
	Location   string // vertex; "" means config's

	// Generation settings; nil/0 means the API's default.
	Temperature     *float64
	TopP            *float64
	TopK            *int
	MaxOutputTokens int
	ThinkingBudget  *int
	// MinOutputTokens and MaxOutputTokens bound the output cap the runtime
	// sets on each request from what the step's replies have taken
	// (thinking included); 0 means the runtime's defaults.
	MinOutputTokens int

	// Quota; 0 means "from the built-in tier table" (filled by the runtime).
	RPM, TPM, RPD int
	Concurrency   int

	// Prices in dollars per million tokens (storage per million token-hours);
	// nil means "from the built-in price table".
	Price *Price

	// BatchTokens is the Batch Mode enqueued-token limit; 0 means "from
	// the tier table".
	BatchTokens int
}

// Price is what a model costs.
type Price struct {
	InputPerM, OutputPerM, CachedPerM, StoragePerMHour float64
}

// Cache is a shared context uploaded once per model that uses it.
type Cache struct {
	Name   string
	Range  lang.Range
	System string        // system text, already evaluated (file(...) read at check time)
	TTL    time.Duration // default 1h
}

// Step is one LLM call per item.
type Step struct {
	Name       string
	Range      lang.Range
	FromSource *Source // exactly one of FromSource, FromStep is set
	FromStep   *Step
	Where      *Expr    // nil: every record; env: id, item, earlier steps
	Models     []*Model // the ladder, cheapest first; at least one
	Output     *Schema  // nil: the reply is plain text
	System     *Template
	Prompt     *Template
	Cache      *Cache
	Checks     []*CheckRule
	Retry      Retry
	Timeout    time.Duration // per attempt; default 60s

	// Batch sends the step's first attempts through batch jobs.
	Batch bool
	// BatchSize caps the items of one job; 0: no cap of the step's own.
	BatchSize int
	// BatchRetries is where follow-up attempts go: "online" (the default)
	// or "batch" (a new job).
	BatchRetries string

	fpOnce sync.Once // Fingerprint, computed on first use
	fp     string
}

// Retry says how a step retries and climbs its ladder.
type Retry struct {
	Attempts      int           // all rungs together; default 3
	EscalateAfter int           // validation failures on one rung before climbing; default 1
	BackoffMin    time.Duration // default 1s
	BackoffMax    time.Duration // default 30s
	Feedback      *Template     // nil: the built-in feedback text
}

// CheckRule is one `check` line. Field is the name after `check` ("" if none);
// the runtime reports failures as {field: Field or Message, message: Message}.
type CheckRule struct {
	Field   string
	Message string
	Range   lang.Range
	Expr    *Expr // compiled AsBool
}

// Sink writes records. Kind is "jsonl" or "csv"; Path is absolute.
type Sink struct {
	Name   string
	Range  lang.Range
	Kind   string
	Path   string
	From   *Step
	Failed bool // from = step.failed
	// Order is how records reach the sink: OrderCompletion (as items
	// finish, the default) or OrderSource (in the order the source gave
	// the items, held back in a bounded buffer until those before them
	// are done).
	Order string
}

// MaxWorkers bounds calls in flight, from config.workers or any other
// setting (the runtime clamps to it too).
const MaxWorkers = 10000

// Sink orders (the order attribute).
const (
	OrderCompletion = "completion"
	OrderSource     = "source"
)

// Config holds run-wide settings.
type Config struct {
	Workers  int     // 0 means auto
	Budget   float64 // dollars; 0 means no budget
	Store    string  // absolute path of the store; "" means the default
	Provider string  // "gemini" (default) or "sim"
	Tier     int     // quota tier for the built-in table; default 1
	FreeTier bool    // tier = free: the free tier's quotas (no Batch Mode)
	Batch    bool    // every step's first attempts through batch jobs
	Project  string  // vertex: the Google Cloud project ("" means from the environment)
	Location string  // vertex: the region ("" means from the environment)
	// MaxWorkers bounds the pool that workers = auto sizes while the run
	// adapts it; 0 means runtime.DefaultMaxWorkers.
	MaxWorkers int
}

// Test is a `test` block: one item through one step with the model's
// replies given in the file, and expectations about what happened.
type Test struct {
	Name  string
	Range lang.Range
	Step  *Step
	Item  map[string]any
	// Upstream holds the outputs of the steps Step reads from (directly or
	// through others), by step name, already typed by their schemas.
	Upstream map[string]any
	Replies  []string // one per attempt, in order
	Expects  []*Expect
}

// Expect is one `expect` line of a test: a boolean expression over the
// names listed with TestOutput and the others.
type Expect struct {
	Source string     // as written
	Range  lang.Range // the whole expect line
	Expr   *Expr      // compiled AsBool
}
