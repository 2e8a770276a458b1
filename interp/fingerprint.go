package interp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
)

// Fingerprints decide what a rerun may reuse. They hash canonical forms
// (expressions printed back from their parse, templates as text plus
// canonical holes, schemas as sorted JSON), never source positions, so
// moving a block or re-indenting an expression changes nothing.

// RequestFingerprint hashes what decides the step's requests: its prompt,
// system and feedback templates, output schema, models with their
// generation settings, the cache's content and the retry settings that pick
// the model and prompt of each attempt. It returns lowercase hex sha256.
func (s *Step) RequestFingerprint() string {
	h := sha256.New()
	s.writeRequest(h)
	return hex.EncodeToString(h.Sum(nil))
}

// Fingerprint hashes RequestFingerprint's inputs plus the step's filter, its
// checks, and the fingerprint of what it reads from: a change to any of them
// can change the step's results.
//
// It is computed once: the runtime asks for it for every item, and it hashes
// every template and the cache's content.
func (s *Step) Fingerprint() string {
	s.fpOnce.Do(func() { s.fp = s.fingerprint() })
	return s.fp
}

func (s *Step) fingerprint() string {
	h := sha256.New()
	s.writeRequest(h)
	field(h, "where", exprCanon(s.Where))
	for _, c := range s.Checks {
		field(h, "check", c.Field, c.Message, exprCanon(c.Expr))
	}
	switch {
	case s.FromStep != nil:
		field(h, "from-step", s.FromStep.Name, s.FromStep.Fingerprint())
	case s.FromSource != nil:
		src := s.FromSource
		field(h, "from-source", src.Name, src.Kind, exprCanon(src.ID), exprCanon(src.Where), strconv.Itoa(src.Limit))
		if src.Schema != nil {
			// Which items fail, and how their numbers read, follow the
			// schema; a source without one hashes as it always did.
			b, _ := json.Marshal(src.Schema.GeminiSchema())
			field(h, "source-schema", string(b))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Step) writeRequest(h hash.Hash) {
	field(h, "prompt", tmplCanon(s.Prompt))
	field(h, "system", tmplCanon(s.System))
	field(h, "feedback", tmplCanon(s.Retry.Feedback))
	if s.Output != nil {
		b, _ := json.Marshal(s.Output.GeminiSchema()) // maps marshal with sorted keys
		field(h, "schema", string(b))
	}
	for _, m := range s.Models {
		field(h, "model", m.ID, fptr(m.Temperature), fptr(m.TopP), iptr(m.TopK),
			strconv.Itoa(m.MaxOutputTokens), iptr(m.ThinkingBudget))
	}
	if s.Cache != nil {
		sum := sha256.Sum256([]byte(s.Cache.System))
		field(h, "cache", hex.EncodeToString(sum[:]))
	}
	field(h, "retry", strconv.Itoa(s.Retry.Attempts), strconv.Itoa(s.Retry.EscalateAfter))
}

// field writes a tagged, length-prefixed record so that no two different
// inputs can hash the same by shifting text between parts.
func field(h hash.Hash, tag string, parts ...string) {
	fmt.Fprintf(h, "%s:%d", tag, len(parts))
	for _, p := range parts {
		fmt.Fprintf(h, ":%d:%s", len(p), p)
	}
	h.Write([]byte{'\n'})
}

func exprCanon(e *Expr) string {
	if e == nil {
		return ""
	}
	if e.canon == "" {
		return canonical(e.Source)
	}
	return e.canon
}

func tmplCanon(t *Template) string {
	if t == nil {
		return ""
	}
	if t.canon == "" {
		return t.Source
	}
	return t.canon
}

func fptr(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}

func iptr(i *int) string {
	if i == nil {
		return "-"
	}
	return strconv.Itoa(*i)
}
