package interp

import (
	"fmt"

	"github.com/llmpipe/llmpipe/lang"
)

// maxDepth is how deeply objects and lists may nest in a schema. Gemini
// rejects deeply nested response schemas, and models fill them badly.
const maxDepth = 5

// typeAliases are type names from other languages, with the one we use.
var typeAliases = map[string]string{
	"integer": "int", "number": "float", "double": "float", "boolean": "bool",
	"str": "string", "text": "string", "list": "[T]", "array": "[T]", "object": "{ … }",
}

var scalarTypes = []string{"string", "int", "float", "bool"}

func (c *checker) lowerSchema(d *decl) {
	if d.done || d.visiting {
		return
	}
	d.visiting = true
	defer func() { d.visiting, d.done = false, true }()
	b := c.readBody(d.block.Body, specs[kindSchema], d.block.Name)
	t, ok := c.lowerFields(b.fields, d.block.Name.Range)
	if !ok {
		return
	}
	if depth := typeDepth(t); depth > maxDepth {
		c.errorf(d.block.Name.Range, "flatten the schema, or split the work into two steps",
			"schema %q nests %d levels deep; Gemini accepts at most %d", d.name, depth, maxDepth)
		return
	}
	d.schema = &Schema{Name: d.name, Range: d.block.Range, Type: t}
	c.prog.Schemas = append(c.prog.Schemas, d.schema)
}

func (c *checker) lowerFields(fields []*lang.Field, owner lang.Range) (*Type, bool) {
	if len(fields) == 0 {
		c.errorf(owner, "add at least one field: NAME TYPE", "object has no fields; Gemini cannot express an empty object")
		return nil, false
	}
	t := &Type{Kind: KindObject}
	seen := map[string]*lang.Field{}
	ok := true
	for _, f := range fields {
		if first, dup := seen[f.Name.Name]; dup {
			d := c.errorf(f.Name.Range, "", "field %q is declared twice", f.Name.Name)
			d.Notes = []lang.Note{{Range: first.Name.Range, Message: "first declared here"}}
			ok = false
			continue
		}
		seen[f.Name.Name] = f
		ft, fok := c.lowerType(f.Type)
		if !fok {
			ok = false
			continue
		}
		doc := ""
		if f.Doc != nil {
			doc = f.Doc.Value
		}
		t.Fields = append(t.Fields, &Field{Name: f.Name.Name, Type: ft, Optional: f.Type.Optional, Doc: doc})
	}
	return t, ok
}

// lowerType lowers a type expression; optionality is the caller's concern.
func (c *checker) lowerType(te *lang.TypeExpr) (*Type, bool) {
	if te == nil {
		return nil, false
	}
	switch {
	case te.List != nil:
		if te.List.Optional {
			c.errorf(te.List.Range, "make the list itself optional instead: [T]?", "list items cannot be optional")
			return nil, false
		}
		elem, ok := c.lowerType(te.List)
		if !ok {
			return nil, false
		}
		return &Type{Kind: KindList, Elem: elem}, true
	case len(te.Enum) > 0:
		t := &Type{Kind: KindEnum}
		seen := map[string]bool{}
		for _, e := range te.Enum {
			if e.Value == "" {
				c.errorf(e.Range, "", "enum values cannot be empty")
				return nil, false
			}
			if seen[e.Value] {
				c.errorf(e.Range, "", "enum value %q is listed twice", e.Value)
				return nil, false
			}
			seen[e.Value] = true
			t.Enum = append(t.Enum, e.Value)
		}
		return t, true
	case te.Fields != nil:
		return c.lowerFields(te.Fields, te.Range)
	case te.Name != nil:
		return c.namedType(te.Name)
	}
	// The parser leaves `{}` with no fields, which is the only empty type.
	c.errorf(te.Range, "add at least one field: NAME TYPE", "object has no fields; Gemini cannot express an empty object")
	return nil, false
}

func (c *checker) namedType(id *lang.Ident) (*Type, bool) {
	switch id.Name {
	case "string":
		return &Type{Kind: KindString}, true
	case "int":
		return &Type{Kind: KindInt}, true
	case "float":
		return &Type{Kind: KindFloat}, true
	case "bool":
		return &Type{Kind: KindBool}, true
	case "map", "dict":
		c.errorf(id.Range, "use a list of objects instead, e.g. [{ key string  value string }]",
			"Gemini's response schema cannot express a map")
		return nil, false
	case "any", "json":
		c.errorf(id.Range, "declare the fields you expect", "Gemini's response schema cannot express %q", id.Name)
		return nil, false
	}
	d, ok := c.decls[id.Name]
	if ok {
		d.used = true
	}
	if !ok {
		var cands []string
		cands = append(cands, scalarTypes...)
		for _, x := range c.order {
			if x.kind == kindSchema {
				cands = append(cands, x.name)
			}
		}
		help := didYouMean(id.Name, cands, "types are string, int, float, bool, [T], \"a\" | \"b\", { … } or a schema name")
		if alias, ok := typeAliases[id.Name]; ok {
			help = fmt.Sprintf("write %s", alias)
		}
		c.errorf(id.Range, help, "unknown type %q", id.Name)
		return nil, false
	}
	if d.kind != kindSchema {
		c.errorf(id.Range, "", "%q is a %s, not a schema", id.Name, d.kind)
		return nil, false
	}
	if d.visiting {
		c.errorf(id.Range, "Gemini response schemas cannot refer to themselves; give the nested part its own shape",
			"schema %q refers to itself", id.Name)
		return nil, false
	}
	c.lowerSchema(d)
	if d.schema == nil {
		return nil, false // reported where that schema is declared
	}
	return d.schema.Type, true
}

// typeDepth counts nested objects and lists, the top object included.
func typeDepth(t *Type) int {
	switch t.Kind {
	case KindList:
		return 1 + typeDepth(t.Elem)
	case KindObject:
		deepest := 0
		for _, f := range t.Fields {
			deepest = max(deepest, typeDepth(f.Type))
		}
		return 1 + deepest
	}
	return 0
}
