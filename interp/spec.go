package interp

// valKind says how an attribute's value is read. It is fixed by the
// attribute, never by how the value happens to be written.
type valKind int

const (
	vString   valKind = iota // "text"
	vInt                     // 16
	vNumber                  // 0.7 or 1
	vDuration                // 30s
	vMoney                   // $2.50
	vRef                     // a block name (from, output, cache)
	vModels                  // a ladder, a model, a plain id or a list of them
	vExpr                    // an expr-lang expression
	vBoolExpr                // an expr-lang expression that must be bool
	vTemplate                // a string with {{ }} holes
	vDurRange                // 1s .. 30s
	vText                    // a string or an expression evaluated at check time
	vBool                    // true or false
)

// attrSpec describes one attribute of a block kind.
type attrSpec struct {
	Name     string
	Kind     valKind
	Required bool
	Default  string // as documentation; the lowering code applies it
	Doc      string
}

// blockSpec describes one block kind: its attributes and what else its body
// may hold.
type blockSpec struct {
	Kind      string
	Named     bool // `KIND NAME { … }`; false: `KIND { … }`
	ValueForm bool // `KIND NAME = VALUE` (ladder)
	Attrs     []attrSpec
	Blocks    []string // nested block kinds
	Checks    bool     // `check` lines allowed
	Fields    bool     // schema fields allowed
	Doc       string
}

func (b *blockSpec) attr(name string) *attrSpec {
	for i := range b.Attrs {
		if b.Attrs[i].Name == name {
			return &b.Attrs[i]
		}
	}
	return nil
}

func (b *blockSpec) attrNames() []string {
	names := make([]string, len(b.Attrs))
	for i, a := range b.Attrs {
		names[i] = a.Name
	}
	return names
}

// DSL names.
const (
	kindSource = "source"
	kindSchema = "schema"
	kindModel  = "model"
	kindLadder = "ladder"
	kindCache  = "cache"
	kindStep   = "step"
	kindSink   = "sink"
	kindConfig = "config"
	kindRetry  = "retry"
	kindTest   = "test"
)

var specs = map[string]*blockSpec{
	// A source names exactly one kind (kinds.go), by the attribute that
	// holds its path.
	kindSource: {Kind: kindSource, Named: true, Doc: "where items come from", Attrs: append(append(kindAttrSpecs(sourceKindSpecs),
		kindOnlyAttrSpecs(sourceKindAttrs, sourceKindSpecs)...),
		attrSpec{Name: "id", Kind: vExpr, Default: "the item's position", Doc: "the item's id; sees item"},
		attrSpec{Name: "where", Kind: vBoolExpr, Doc: "keep only items for which this is true; sees item"},
		attrSpec{Name: "limit", Kind: vInt, Default: "0 (no limit)", Doc: "read at most this many items"},
	)},
	kindSchema: {Kind: kindSchema, Named: true, Fields: true, Doc: "the shape of a structured output"},
	kindModel: {Kind: kindModel, Named: true, Doc: "a model with generation settings, quota and price", Attrs: []attrSpec{
		{Name: "id", Kind: vString, Required: true, Doc: "the model id, as its provider names it"},
		{Name: "provider", Kind: vString, Default: "config's provider", Doc: "\"gemini\", \"vertex\" or \"openai\" (any OpenAI-compatible server)"},
		{Name: "base_url", Kind: vString, Doc: "the provider's API root, e.g. \"http://127.0.0.1:8000/v1\""},
		{Name: "api_key_env", Kind: vString, Default: "OPENAI_API_KEY", Doc: "the environment variable holding an openai model's API key"},
		{Name: "json_schema", Kind: vBool, Default: "true", Doc: "openai: send the schema as a strict response_format; false for servers without structured output"},
		{Name: "project", Kind: vString, Default: "config's project", Doc: "vertex: the Google Cloud project"},
		{Name: "location", Kind: vString, Default: "config's location", Doc: "vertex: the region, e.g. \"us-central1\""},
		{Name: "temperature", Kind: vNumber},
		{Name: "top_p", Kind: vNumber},
		{Name: "top_k", Kind: vInt},
		{Name: "max_output_tokens", Kind: vInt, Default: "8192", Doc: "the most output tokens (thinking included) a reply may take: the ceiling of the adaptive cap"},
		{Name: "min_output_tokens", Kind: vInt, Default: "256", Doc: "the floor of the adaptive output cap set on each request"},
		{Name: "thinking_budget", Kind: vInt},
		{Name: "rpm", Kind: vInt, Default: "from the tier table", Doc: "requests per minute"},
		{Name: "tpm", Kind: vInt, Default: "from the tier table", Doc: "input tokens per minute"},
		{Name: "rpd", Kind: vInt, Default: "from the tier table", Doc: "requests per day"},
		{Name: "concurrency", Kind: vInt, Doc: "calls in flight at once"},
		{Name: "input_price", Kind: vMoney, Doc: "dollars per million input tokens"},
		{Name: "output_price", Kind: vMoney, Doc: "dollars per million output tokens"},
		{Name: "cached_price", Kind: vMoney, Doc: "dollars per million cached input tokens"},
		{Name: "storage_price", Kind: vMoney, Doc: "dollars per million cached tokens per hour"},
		{Name: "batch_tokens", Kind: vInt, Default: "from the tier table", Doc: "Batch Mode enqueued-token limit"},
	}},
	kindLadder: {Kind: kindLadder, Named: true, ValueForm: true, Doc: "models to climb, cheapest first"},
	kindCache: {Kind: kindCache, Named: true, Doc: "shared context uploaded once per model", Attrs: []attrSpec{
		{Name: "system", Kind: vText, Required: true, Doc: "the system text; file(...) is read at check time"},
		{Name: "ttl", Kind: vDuration, Default: "1h"},
	}},
	kindStep: {Kind: kindStep, Named: true, Checks: true, Blocks: []string{kindRetry}, Doc: "one LLM call per item", Attrs: []attrSpec{
		{Name: "from", Kind: vRef, Required: true, Doc: "a source or an earlier step"},
		{Name: "where", Kind: vBoolExpr, Doc: "run only for records where this is true"},
		{Name: "models", Kind: vModels, Required: true, Doc: "a ladder, a model, a model id or a list of them"},
		{Name: "output", Kind: vRef, Doc: "a schema; without it the reply is plain text"},
		{Name: "system", Kind: vTemplate},
		{Name: "prompt", Kind: vTemplate, Required: true},
		{Name: "cache", Kind: vRef},
		{Name: "timeout", Kind: vDuration, Default: "60s", Doc: "per attempt"},
		{Name: "batch", Kind: vBool, Default: "false", Doc: "send first attempts through Gemini Batch Mode (half price, hours of latency)"},
		{Name: "batch_size", Kind: vInt, Default: "no cap", Doc: "items per batch job at most"},
		{Name: "batch_retries", Kind: vString, Default: "\"online\"", Doc: "where follow-up attempts go: \"online\" or \"batch\""},
	}},
	kindRetry: {Kind: kindRetry, Doc: "how a step retries and climbs its ladder", Attrs: []attrSpec{
		{Name: "attempts", Kind: vInt, Default: "3", Doc: "all rungs together"},
		{Name: "escalate_after", Kind: vInt, Default: "1", Doc: "validation failures on one rung before climbing"},
		{Name: "backoff", Kind: vDurRange, Default: "1s .. 30s"},
		{Name: "feedback", Kind: vTemplate, Doc: "appended to the prompt after a validation failure"},
	}},
	// A sink names exactly one kind (kinds.go) besides from.
	kindSink: {Kind: kindSink, Named: true, Doc: "where records go", Attrs: append([]attrSpec{
		{Name: "from", Kind: vRef, Required: true, Doc: "a step, or STEP.failed"},
		{Name: "order", Kind: vString, Default: `"completion"`,
			Doc: `"completion": records as items finish; "source": in the source's order, through a reorder buffer of at most 10000 records`},
	}, kindAttrSpecs(sinkKindSpecs)...)},
	kindTest: {Kind: kindTest, Named: true, Doc: "one item through one step with replies given here, and expect lines about what happened", Attrs: []attrSpec{
		{Name: "step", Kind: vRef, Required: true, Doc: "the step to run"},
		{Name: "item", Kind: vExpr, Required: true, Doc: "the source record, a map: {id: \"t1\", text: \"…\"}"},
		{Name: "reply", Kind: vString, Doc: "the model's one reply"},
		{Name: "replies", Kind: vString, Doc: "the model's replies, one per attempt, in order"},
	}},
	kindConfig: {Kind: kindConfig, Doc: "run-wide settings", Attrs: []attrSpec{
		{Name: "workers", Kind: vInt, Default: "0 (auto)"},
		{Name: "max_workers", Kind: vInt, Default: "1024", Doc: "workers = auto never sizes the pool above this"},
		{Name: "budget", Kind: vMoney, Default: "no budget"},
		{Name: "store", Kind: vString, Default: ".llmpipe/<name>.db"},
		{Name: "provider", Kind: vString, Default: "gemini", Doc: "\"gemini\" (the Gemini API), \"vertex\" (Gemini on Vertex AI) or \"sim\""},
		{Name: "project", Kind: vString, Default: "GOOGLE_CLOUD_PROJECT", Doc: "vertex: the Google Cloud project"},
		{Name: "location", Kind: vString, Default: "GOOGLE_CLOUD_LOCATION", Doc: "vertex: the region, e.g. \"us-central1\""},
		{Name: "tier", Kind: vInt, Default: "1", Doc: "1, 2, 3, or free"},
		{Name: "batch", Kind: vBool, Default: "false", Doc: "every step's first attempts through Gemini Batch Mode"},
	}},
}

// topKinds are the block kinds allowed at the top level, in the order
// their names are offered as suggestions.
var topKinds = []string{kindSource, kindSchema, kindModel, kindLadder, kindCache, kindStep, kindSink, kindConfig, kindTest}

// knownModels are the Gemini model ids llmpipe knows; other ids that start
// with "gemini-" are accepted silently (they may be newer models) unless
// they are one typo away from a known id.
var knownModels = []string{
	"gemini-2.0-flash", "gemini-2.0-flash-lite",
	"gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro",
	"gemini-3-pro-preview", "gemini-3-flash-preview",
}

// reserved are names a step may not take, because expressions see them.
var reserved = []string{VarID, VarItem, VarOutput, VarText, VarFailed, VarPassed, VarPrevious, VarAttempt, VarModel}

// providers are the values config.provider may take.
var providers = []string{"gemini", "vertex", "sim"}

// Model providers, as a model block's provider attribute names them.
const (
	ProviderGemini = "gemini" // the Gemini Developer API
	ProviderVertex = "vertex" // Gemini on Vertex AI
	ProviderOpenAI = "openai" // any OpenAI-compatible chat-completions server
	ProviderSim    = "sim"    // the built-in simulator, speaking the Gemini API
)

// modelProviders are the values a model block's provider may take.
var modelProviders = []string{ProviderGemini, ProviderVertex, ProviderOpenAI}
