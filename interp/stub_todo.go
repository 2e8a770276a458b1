package interp

// TEMPORARY: signatures the interp work implements; this file is deleted
// when the real implementations land.

import (
	"errors"

	"github.com/llmpipe/llmpipe/lang"
)

var errTODO = errors.New("interp: not implemented yet")

// Expr is a compiled expr-lang expression.
type Expr struct {
	Source string
	Range  lang.Range
}

// Eval runs the expression against env.
func (e *Expr) Eval(env map[string]any) (any, error) { return nil, errTODO }

// EvalBool runs a boolean expression.
func (e *Expr) EvalBool(env map[string]any) (bool, error) { return false, errTODO }

// Template is a compiled prompt template.
type Template struct {
	Source string
	Range  lang.Range
}

// Render fills the template from env.
func (t *Template) Render(env map[string]any) (string, error) { return "", errTODO }

// GeminiSchema returns the Gemini responseSchema (OpenAPI subset, upper-case types).
func (s *Schema) GeminiSchema() map[string]any { return nil }

// ParseReply parses a raw reply against the schema. An error means no JSON
// value could be found at all (an invalid_output failure whose message is fit
// for the feedback template); field problems are in Reply.Failed.
func (s *Schema) ParseReply(text string) (*Reply, error) { return nil, errTODO }

// Fingerprint hashes everything that decides the step's requests and checks.
func (s *Step) Fingerprint() string { return "" }

// RequestFingerprint hashes only what decides the step's requests (not checks).
func (s *Step) RequestFingerprint() string { return "" }

// Check checks a parsed file and lowers it to a Program.
func Check(f *lang.File, opts *Options) (*Program, lang.Diagnostics) { return nil, nil }
