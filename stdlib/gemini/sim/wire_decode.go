package sim

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// decodeGenRequest is the generate hot path's request decoder. encoding/json
// spent about a quarter of the handler's CPU on a request (a validity scan,
// then reflection over genRequest and every RawMessage); this reads the few
// fields the simulator uses in one pass, slicing strings without escapes out
// of one copy of the body.
//
// It gives up (false) on anything it is not sure encoding/json would read the
// same way: a syntax error, a repeated or differently-cased known key, a null
// or mistyped known field, a \u surrogate, invalid UTF-8. The caller then
// runs encoding/json, which decides and words the 400.
func decodeGenRequest(body []byte, req *genRequest) bool {
	d := wireDecoder{s: string(body)}
	*req = genRequest{}
	done := d.object(func(k string) bool {
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
			req.CachedContent, ok = d.str()
			return ok
		case "generationConfig":
			req.GenerationConfig = new(genConfig)
			return d.genConfig(req.GenerationConfig)
		case "tools":
			req.Tools, ok = d.raw()
			return ok
		}
		return d.skip()
	}, "contents", "systemInstruction", "cachedContent", "generationConfig", "tools")
	d.ws()
	return done && d.i == len(d.s)
}

type wireDecoder struct {
	s     string
	i     int
	depth int
}

// wireMaxDepth bounds nesting in skipped values; deeper requests go to
// encoding/json.
const wireMaxDepth = 100

func (d *wireDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *wireDecoder) peek() byte {
	d.ws()
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// object reads {...}, calling member with the decoder on each value. known
// are the keys member handles: each may appear once, exactly spelt.
func (d *wireDecoder) object(member func(key string) bool, known ...string) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		return true
	}
	var seen uint32
	for {
		if d.peek() != '"' {
			return false
		}
		k, ok := d.str()
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		for j, name := range known {
			if strings.EqualFold(k, name) {
				// encoding/json matches keys without case and merges
				// repeats; neither is worth copying here.
				if k != name || seen&(1<<j) != 0 {
					return false
				}
				seen |= 1 << j
			}
		}
		if !member(k) {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// array reads [...], calling elem for each element.
func (d *wireDecoder) array(elem func() bool) bool {
	if d.peek() != '[' {
		return false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

func (d *wireDecoder) contents() ([]content, bool) {
	cs := make([]content, 0, 1)
	ok := d.array(func() bool {
		cs = append(cs, content{})
		return d.content(&cs[len(cs)-1])
	})
	return cs, ok
}

func (d *wireDecoder) content(c *content) bool {
	return d.object(func(k string) bool {
		var ok bool
		switch k {
		case "role":
			c.Role, ok = d.str()
			return ok
		case "parts":
			c.Parts = make([]part, 0, 1)
			return d.array(func() bool {
				c.Parts = append(c.Parts, part{})
				p := &c.Parts[len(c.Parts)-1]
				return d.object(func(k string) bool {
					if k == "text" {
						var ok bool
						p.Text, ok = d.str()
						return ok
					}
					return d.skip()
				}, "text")
			})
		}
		return d.skip()
	}, "role", "parts")
}

func (d *wireDecoder) genConfig(g *genConfig) bool {
	return d.object(func(k string) bool {
		var ok bool
		switch k {
		case "maxOutputTokens":
			g.MaxOutputTokens, ok = d.int()
		case "responseMimeType":
			g.ResponseMimeType, ok = d.str()
		case "responseSchema":
			g.ResponseSchema, ok = d.raw()
		case "responseJsonSchema":
			g.ResponseJSONSchema, ok = d.raw()
		default:
			ok = d.skip()
		}
		return ok
	}, "maxOutputTokens", "responseMimeType", "responseSchema", "responseJsonSchema")
}

// int reads a plain integer; fractions, exponents and overflow go to
// encoding/json, which refuses them for an int field.
func (d *wireDecoder) int() (int, bool) {
	d.ws()
	i, neg := d.i, false
	if i < len(d.s) && d.s[i] == '-' {
		neg = true
		i++
	}
	start, n := i, 0
	for i < len(d.s) && d.s[i] >= '0' && d.s[i] <= '9' {
		if i-start >= 15 {
			return 0, false
		}
		n = n*10 + int(d.s[i]-'0')
		i++
	}
	if i == start || (d.s[start] == '0' && i-start > 1) {
		return 0, false
	}
	if i < len(d.s) && (d.s[i] == '.' || d.s[i] == 'e' || d.s[i] == 'E') {
		return 0, false
	}
	d.i = i
	if neg {
		n = -n
	}
	return n, true
}

// raw copies one value's text, as json.RawMessage does.
func (d *wireDecoder) raw() (json.RawMessage, bool) {
	d.ws()
	start := d.i
	if !d.skip() {
		return nil, false
	}
	return json.RawMessage(d.s[start:d.i]), true
}

// str reads a string at d.i (after white space).
func (d *wireDecoder) str() (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	start := d.i + 1
	ascii := true
	for i := start; i < len(d.s); i++ {
		switch c := d.s[i]; {
		case c == '"':
			d.i = i + 1
			s := d.s[start:i]
			return s, ascii || utf8.ValidString(s)
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

func (d *wireDecoder) escaped(start int) (string, bool) {
	b := make([]byte, 0, len(d.s)-start)
	for i := start; i < len(d.s); {
		c := d.s[i]
		switch {
		case c == '"':
			d.i = i + 1
			return string(b), utf8.Valid(b)
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(d.s) {
			return "", false
		}
		switch e := d.s[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			var r rune
			if i+6 > len(d.s) {
				return "", false
			}
			for _, h := range []byte(d.s[i+2 : i+6]) {
				switch {
				case h >= '0' && h <= '9':
					h -= '0'
				case h >= 'a' && h <= 'f':
					h -= 'a' - 10
				case h >= 'A' && h <= 'F':
					h -= 'A' - 10
				default:
					return "", false
				}
				r = r<<4 | rune(h)
			}
			if r >= 0xD800 && r < 0xE000 {
				return "", false // surrogates: encoding/json pairs them
			}
			b = utf8.AppendRune(b, r)
			i += 6
			continue
		default:
			return "", false
		}
		i += 2
	}
	return "", false
}

// skip checks and passes over one value of any kind.
func (d *wireDecoder) skip() bool {
	switch c := d.peek(); {
	case c == '{':
		if d.depth++; d.depth > wireMaxDepth {
			return false
		}
		ok := d.object(func(string) bool { return d.skip() })
		d.depth--
		return ok
	case c == '[':
		if d.depth++; d.depth > wireMaxDepth {
			return false
		}
		ok := d.array(d.skip)
		d.depth--
		return ok
	case c == '"':
		_, ok := d.str()
		return ok
	case c == 't':
		return d.lit("true")
	case c == 'f':
		return d.lit("false")
	case c == 'n':
		return d.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return false
}

func (d *wireDecoder) lit(w string) bool {
	if strings.HasPrefix(d.s[d.i:], w) {
		d.i += len(w)
		return true
	}
	return false
}

// number passes over a number in JSON's grammar.
func (d *wireDecoder) number() bool {
	s, i := d.s, d.i
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	d.i = i
	return true
}
