package sim

import (
	"encoding/json"
	"strings"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
)

// decodeGenRequest is the generate hot path's request decoder. encoding/json
// spent about a quarter of the handler's CPU on a request (a validity scan,
// then reflection over genRequest and every RawMessage); this reads the few
// fields the simulator uses in one pass with internal/jsonscan, slicing
// strings without escapes out of one copy of the body.
//
// It gives up (false) on anything it is not sure encoding/json would read the
// same way: a syntax error, a repeated or differently-cased known key, a null
// or mistyped known field, a \u surrogate, invalid UTF-8. The caller then
// runs encoding/json, which decides and words the 400.
func decodeGenRequest(body []byte, req *genRequest) bool {
	d := wireDecoder{jsonscan.New(string(body))}
	d.MaxDepth = wireMaxDepth
	*req = genRequest{}
	done := d.Members(func(k string) bool {
		var ok bool
		switch k {
		case "contents":
			req.Contents, ok = d.contents()
			return ok && req.Contents != nil
		case "systemInstruction":
			c := new(content)
			req.SystemInstruction = c
			return d.content(c)
		case "cachedContent":
			req.CachedContent, ok = d.Str()
			return ok
		case "generationConfig":
			req.GenerationConfig = new(genConfig)
			return d.genConfig(req.GenerationConfig)
		case "tools":
			req.Tools, ok = d.raw()
			return ok
		}
		return d.Skip()
	}, "contents", "systemInstruction", "cachedContent", "generationConfig", "tools")
	return done && d.End()
}

// wireDecoder adds the request's shape to the scanner.
type wireDecoder struct{ jsonscan.Scanner }

// wireMaxDepth bounds nesting in skipped values; deeper requests go to
// encoding/json.
const wireMaxDepth = 100

func (d *wireDecoder) contents() ([]content, bool) {
	cs := make([]content, 0, 1)
	ok := d.Elements(func() bool {
		cs = append(cs, content{})
		return d.content(&cs[len(cs)-1])
	})
	return cs, ok
}

func (d *wireDecoder) content(c *content) bool {
	return d.Members(func(k string) bool {
		var ok bool
		switch k {
		case "role":
			c.Role, ok = d.Str()
			return ok
		case "parts":
			c.Parts = make([]part, 0, 1)
			return d.Elements(func() bool {
				c.Parts = append(c.Parts, part{})
				p := &c.Parts[len(c.Parts)-1]
				return d.Members(func(k string) bool {
					if k == "text" {
						var ok bool
						p.Text, ok = d.Str()
						return ok
					}
					return d.Skip()
				}, "text")
			})
		}
		return d.Skip()
	}, "role", "parts")
}

func (d *wireDecoder) genConfig(g *genConfig) bool {
	return d.Members(func(k string) bool {
		var ok bool
		switch k {
		case "maxOutputTokens":
			g.MaxOutputTokens, ok = d.int()
		case "responseMimeType":
			g.ResponseMimeType, ok = d.Str()
		case "responseSchema":
			g.ResponseSchema, ok = d.raw()
		case "responseJsonSchema":
			g.ResponseJSONSchema, ok = d.raw()
		case "thinkingConfig":
			g.ThinkingConfig = new(thinkingConfig)
			ok = d.Members(func(k string) bool {
				if k != "thinkingBudget" {
					return d.Skip()
				}
				n, ok := d.int()
				g.ThinkingConfig.ThinkingBudget = &n
				return ok
			}, "thinkingBudget")
		default:
			ok = d.Skip()
		}
		return ok
	}, "maxOutputTokens", "responseMimeType", "responseSchema", "responseJsonSchema", "thinkingConfig")
}

// int reads a plain integer; fractions, exponents and more than 15 digits
// go to encoding/json, which refuses the first two for an int field.
func (d *wireDecoder) int() (int, bool) {
	text, ok := d.Number()
	if !ok || len(strings.TrimPrefix(text, "-")) > 15 {
		return 0, false
	}
	return jsonscan.SmallInt(text)
}

// raw copies one value's text, as json.RawMessage does.
func (d *wireDecoder) raw() (json.RawMessage, bool) {
	text, ok := d.Raw()
	if !ok {
		return nil, false
	}
	return json.RawMessage(text), true
}
