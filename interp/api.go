package interp

// The small types the checker, the runtime and stdlib share besides the
// Program itself (program.go): the names expressions and templates see, a
// parsed reply, a built-in function's spec, and Check's options.

// Names of the variables expressions and templates see.
const (
	VarID       = "id"       // the item id (string)
	VarItem     = "item"     // the source record (map[string]any)
	VarOutput   = "output"   // this step's parsed output (checks only)
	VarText     = "text"     // this step's raw reply (checks only)
	VarFailed   = "failed"   // []map[string]any{"field","message"} (feedback only)
	VarPassed   = "passed"   // []string (feedback only)
	VarPrevious = "previous" // the last raw reply (feedback only)
	VarAttempt  = "attempt"  // the coming attempt's number, 1-based (feedback only)
	VarModel    = "model"    // the coming attempt's model id (feedback only)
	// Earlier steps are visible by their step name.
)

// FieldError is one failed field of a reply or one failed check.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Reply is a model's answer parsed against a step's schema.
type Reply struct {
	Value     any          // decoded JSON (map[string]any for an object schema)
	Recovered bool         // a code fence or prose around the JSON was stripped
	Passed    []string     // top-level fields that parsed and typed correctly
	Failed    []FieldError // fields that are missing or mistyped
}

// Func is a built-in function for expressions and templates, registered by
// stdlib and documented by its spec.
type Func struct {
	Name        string
	Summary     string // one line
	Description string
	Example     string
	// Types are expr function signatures, e.g. new(func(string) string).
	Types []any
	// Fn receives the calling program's context (its directory) and the
	// arguments. It must be safe to call concurrently.
	Fn func(fc *FuncContext, args ...any) (any, error)
}

// FuncContext is what a built-in knows about the program calling it.
type FuncContext struct {
	Dir string // the pipeline's directory; file(...) may not escape it
}

// Options configures Check.
type Options struct {
	Funcs []*Func
	// Dir, when set, is the directory relative paths resolve against,
	// instead of the directory of the file's name (e.g. for a pipeline read
	// from stdin, or a test that names its file "in.llmp").
	Dir string
}
