package funcs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/interp/tokens"
)

func jsonFunc() *interp.Func {
	return &interp.Func{
		Name:        "json",
		Summary:     "Encodes a value as compact JSON.",
		Description: "json(v) returns v as one line of JSON, with no HTML escaping, for putting records into prompts.",
		Example:     `prompt = "Check this record: {{ json(item) }}"`,
		Types:       []any{new(func(any) string)},
		Fn: func(_ *interp.FuncContext, args ...any) (any, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("json takes 1 argument, but got %d", len(args))
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(args[0]); err != nil {
				return nil, fmt.Errorf("json: %w", err)
			}
			return strings.TrimSuffix(buf.String(), "\n"), nil
		},
	}
}

func linesFunc() *interp.Func {
	return &interp.Func{
		Name:    "lines",
		Summary: "Splits text into lines.",
		Description: "lines(s) returns the lines of s without their line endings (\\n or \\r\\n). " +
			"A final line ending does not make an extra empty line; empty text has no lines.",
		Example: `check "at most 5 lines": len(lines(text)) <= 5`,
		Types:   []any{new(func(string) []string)},
		Fn: func(_ *interp.FuncContext, args ...any) (any, error) {
			s, err := oneString("lines", args)
			if err != nil {
				return nil, err
			}
			return splitLines(s), nil
		},
	}
}

func splitLines(s string) []string {
	out := []string{}
	if s == "" {
		return out
	}
	s = strings.TrimSuffix(s, "\n")
	for _, l := range strings.Split(s, "\n") {
		out = append(out, strings.TrimSuffix(l, "\r"))
	}
	return out
}

func truncateFunc() *interp.Func {
	return &interp.Func{
		Name:    "truncate",
		Summary: "Shortens text to at most n characters.",
		Description: "truncate(s, n) returns s unchanged if it has at most n characters (runes); " +
			"otherwise its first n-1 characters followed by \"…\", so the result has exactly n.",
		Example: `prompt = "Summarise: {{ truncate(item.body, 2000) }}"`,
		Types:   []any{new(func(string, int) string)},
		Fn: func(_ *interp.FuncContext, args ...any) (any, error) {
			if len(args) != 2 {
				return nil, fmt.Errorf("truncate takes 2 arguments, but got %d", len(args))
			}
			s, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("truncate expects a string, but got %T", args[0])
			}
			n, ok := args[1].(int)
			if !ok {
				return nil, fmt.Errorf("truncate expects an integer length, but got %T", args[1])
			}
			return truncate(s, n), nil
		},
	}
}

func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func tokensFunc() *interp.Func {
	return &interp.Func{
		Name:    "tokens",
		Summary: "Estimates how many tokens text is.",
		Description: "tokens(s) estimates the token count of s the way llmpipe reserves budget: about four characters " +
			"per token for English, more for code and numbers, one per CJK character. It errs high, never low, " +
			"and is a guide for limits and budgets, not Gemini's exact count.",
		Example: `where = tokens(item.text) < 8000`,
		Types:   []any{new(func(string) int)},
		Fn: func(_ *interp.FuncContext, args ...any) (any, error) {
			s, err := oneString("tokens", args)
			if err != nil {
				return nil, err
			}
			return tokens.Estimate(s), nil
		},
	}
}
