package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// schema is the subset of Gemini's OpenAPI schema and of JSON Schema that
// shapes a reply. Both dialects parse into it; types are lower-cased.
type schema struct {
	typ       string // object, array, string, integer, number, boolean, null; "" = any
	nullable  bool
	format    string
	enum      []json.RawMessage // raw values, as the schema wrote them
	enumStr   []string          // the string ones, for grounding and checks
	props     []prop            // in reply order
	required  []string
	items     *schema
	minItems  int // -1 when unset
	maxItems  int
	minimum   *float64
	maximum   *float64
	minLength int
	maxLength int
	// canon hashes the whole schema in a canonical form (sorted keys,
	// compact): set on the root by schemaCache.get, 0 elsewhere.
	canon uint64
}

type prop struct {
	name string
	s    *schema
}

func (s *schema) isRequired(name string) bool {
	for _, r := range s.required {
		if r == name {
			return true
		}
	}
	return false
}

// rawSchema is the wire form of both dialects.
type rawSchema struct {
	Type             json.RawMessage            `json:"type"`
	Format           string                     `json:"format"`
	Nullable         bool                       `json:"nullable"`
	Enum             []json.RawMessage          `json:"enum"`
	Const            json.RawMessage            `json:"const"`
	Properties       json.RawMessage            `json:"properties"`
	PropertyOrdering []string                   `json:"propertyOrdering"`
	Required         []string                   `json:"required"`
	Items            json.RawMessage            `json:"items"`
	MinItems         flexInt                    `json:"minItems"`
	MaxItems         flexInt                    `json:"maxItems"`
	Minimum          *float64                   `json:"minimum"`
	Maximum          *float64                   `json:"maximum"`
	MinLength        flexInt                    `json:"minLength"`
	MaxLength        flexInt                    `json:"maxLength"`
	AnyOf            []json.RawMessage          `json:"anyOf"`
	OneOf            []json.RawMessage          `json:"oneOf"`
	Ref              string                     `json:"$ref"`
	Defs             map[string]json.RawMessage `json:"$defs"`
	Definitions      map[string]json.RawMessage `json:"definitions"`
}

// flexInt accepts 3 and "3": proto JSON writes int64 as a string.
type flexInt struct {
	set bool
	n   int
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("schema count %s: %w", b, err)
	}
	*f = flexInt{set: true, n: n}
	return nil
}

func (f flexInt) or(d int) int {
	if f.set {
		return f.n
	}
	return d
}

// schemaParser resolves $ref against the root's definitions.
type schemaParser struct {
	jsonSchema bool // responseJsonSchema: keep property order as written
	defs       map[string]json.RawMessage
	depth      int
}

const maxSchemaDepth = 32

func parseSchema(raw json.RawMessage, jsonSchema bool) (*schema, error) {
	p := &schemaParser{jsonSchema: jsonSchema}
	return p.parse(raw)
}

func (p *schemaParser) parse(raw json.RawMessage) (*schema, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxSchemaDepth {
		return nil, fmt.Errorf("schema nested deeper than %d", maxSchemaDepth)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "true" || string(raw) == "{}" {
		return &schema{minItems: -1, maxItems: -1, minLength: -1, maxLength: -1}, nil
	}
	var r rawSchema
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if p.defs == nil {
		p.defs = r.Defs
		if p.defs == nil {
			p.defs = r.Definitions
		}
	}
	if r.Ref != "" {
		name := r.Ref[strings.LastIndexByte(r.Ref, '/')+1:]
		def, ok := p.defs[name]
		if !ok {
			return nil, fmt.Errorf("schema: unresolved $ref %q", r.Ref)
		}
		return p.parse(def)
	}
	// A union takes its first non-null branch, the way a model would
	// usually answer; nullability is kept.
	if alts := append(r.AnyOf, r.OneOf...); len(alts) > 0 {
		var pick *schema
		nullable := r.Nullable
		for _, a := range alts {
			s, err := p.parse(a)
			if err != nil {
				return nil, err
			}
			if s.typ == "null" {
				nullable = true
				continue
			}
			if pick == nil {
				pick = s
			}
		}
		if pick == nil {
			pick = &schema{typ: "null", minItems: -1, maxItems: -1, minLength: -1, maxLength: -1}
		}
		pick.nullable = pick.nullable || nullable
		return pick, nil
	}
	s := &schema{
		format:    r.Format,
		nullable:  r.Nullable,
		required:  r.Required,
		minItems:  r.MinItems.or(-1),
		maxItems:  r.MaxItems.or(-1),
		minimum:   r.Minimum,
		maximum:   r.Maximum,
		minLength: r.MinLength.or(-1),
		maxLength: r.MaxLength.or(-1),
	}
	if err := s.setType(r.Type); err != nil {
		return nil, err
	}
	s.enum = r.Enum
	if len(r.Const) > 0 {
		s.enum = []json.RawMessage{r.Const}
	}
	for _, e := range s.enum {
		var str string
		if json.Unmarshal(e, &str) == nil {
			s.enumStr = append(s.enumStr, str)
		}
	}
	if len(r.Items) > 0 {
		it, err := p.parse(r.Items)
		if err != nil {
			return nil, err
		}
		s.items = it
	}
	if len(r.Properties) > 0 {
		if err := p.parseProps(s, r.Properties, r.PropertyOrdering); err != nil {
			return nil, err
		}
	}
	if s.typ == "" {
		switch {
		case len(s.props) > 0:
			s.typ = "object"
		case s.items != nil:
			s.typ = "array"
		case len(s.enumStr) > 0:
			s.typ = "string"
		}
	}
	return s, nil
}

// setType reads "STRING", "string" or ["string","null"].
func (s *schema) setType(raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		s.typ = strings.ToLower(one)
		if s.typ == "type_unspecified" {
			s.typ = ""
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return fmt.Errorf("schema type %s: %w", raw, err)
	}
	for _, t := range many {
		t = strings.ToLower(t)
		if t == "null" {
			s.nullable = true
		} else if s.typ == "" {
			s.typ = t
		}
	}
	if s.typ == "" && s.nullable {
		s.typ = "null"
	}
	return nil
}

// parseProps walks the properties object with a token decoder so the
// order the schema wrote them in survives.
func (p *schemaParser) parseProps(s *schema, raw json.RawMessage, ordering []string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("schema properties: want an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("schema properties: %w", err)
		}
		name, _ := t.(string)
		var sub json.RawMessage
		if err := dec.Decode(&sub); err != nil {
			return fmt.Errorf("schema property %q: %w", name, err)
		}
		ps, err := p.parse(sub)
		if err != nil {
			return err
		}
		s.props = append(s.props, prop{name: name, s: ps})
	}
	rank := make(map[string]int, len(ordering))
	for i, n := range ordering {
		rank[n] = i + 1
	}
	// Gemini answers in propertyOrdering, otherwise alphabetically for
	// responseSchema; JSON Schema keeps the order written.
	sort.SliceStable(s.props, func(i, j int) bool {
		ri, rj := rank[s.props[i].name], rank[s.props[j].name]
		if ri != rj {
			if ri == 0 || rj == 0 {
				return rj == 0
			}
			return ri < rj
		}
		if ri == 0 && !p.jsonSchema {
			return s.props[i].name < s.props[j].name
		}
		return false
	})
	return nil
}

// schemaCache memoises parsed schemas: a batch sends the same few schemas
// millions of times. It stops growing past maxCachedSchemas. A map per
// dialect under a read lock lets a hit look up string(raw) without copying
// the bytes.
type schemaCache struct {
	mu   sync.RWMutex
	m    [2]map[string]*schema // [0] responseSchema, [1] responseJsonSchema
	size int
}

const maxCachedSchemas = 4096

func (c *schemaCache) get(raw json.RawMessage, jsonSchema bool) (*schema, error) {
	d := 0
	if jsonSchema {
		d = 1
	}
	c.mu.RLock()
	s, ok := c.m[d][string(raw)]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	s, err := parseSchema(raw, jsonSchema)
	if err != nil {
		return nil, err
	}
	s.canon = canonHash(raw, jsonSchema)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size < maxCachedSchemas {
		if c.m[d] == nil {
			c.m[d] = map[string]*schema{}
		}
		if _, dup := c.m[d][string(raw)]; !dup {
			c.m[d][string(raw)] = s
			c.size++
		}
	}
	return s, nil
}
