package sim

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kinds of wrong answer, as real models give them.
const (
	InvalidFence     = "fence"            // JSON inside a Markdown code fence
	InvalidProse     = "prose"            // prose around the JSON
	InvalidTruncated = "truncated"        // JSON cut off (finishReason MAX_TOKENS)
	InvalidMissing   = "missing_required" // a required field left out
	InvalidWrongType = "wrong_type"       // e.g. "34" for an integer
	InvalidEnum      = "out_of_enum"      // a value outside the enum
	InvalidRange     = "out_of_range"     // e.g. age 212 or -3
)

// InvalidKinds lists every kind of wrong answer.
var InvalidKinds = []string{InvalidFence, InvalidProse, InvalidTruncated, InvalidMissing, InvalidWrongType, InvalidEnum, InvalidRange}

// slot is one object field of the generated value, with its schema.
type slot struct {
	obj *value
	idx int
	s   *schema
}

func collectSlots(v *value, s *schema, out []slot) []slot {
	switch v.kind {
	case vObject:
		for i := range v.obj {
			var fs *schema
			for _, p := range s.props {
				if p.name == v.obj[i].name {
					fs = p.s
					break
				}
			}
			if fs == nil {
				continue
			}
			out = append(out, slot{obj: v, idx: i, s: fs})
			out = collectSlots(&v.obj[i].v, fs, out)
		}
	case vArray:
		if s.items != nil {
			for i := range v.arr {
				out = collectSlots(&v.arr[i], s.items, out)
			}
		}
	}
	return out
}

// makeInvalid turns a conforming value into a wrong answer of a kind that
// applies to the schema. It returns the reply text, the finish reason and
// the kind.
func makeInvalid(r *stream, root *value, s *schema) (text, finish, kind string) {
	slots := collectSlots(root, s, nil)
	var required, enums, nums []slot
	for _, sl := range slots {
		if sl.obj.kind == vObject && findSchemaOwner(s, sl).isRequired(sl.obj.obj[sl.idx].name) {
			required = append(required, sl)
		}
		if len(sl.s.enumStr) > 0 {
			enums = append(enums, sl)
		}
		if len(sl.s.enum) == 0 && (sl.s.typ == "integer" || sl.s.typ == "number") {
			nums = append(nums, sl)
		}
	}
	kinds := []string{InvalidFence, InvalidProse, InvalidTruncated}
	if len(required) > 0 {
		kinds = append(kinds, InvalidMissing)
	}
	if len(slots) > 0 {
		kinds = append(kinds, InvalidWrongType)
	}
	if len(enums) > 0 {
		kinds = append(kinds, InvalidEnum)
	}
	if len(nums) > 0 {
		kinds = append(kinds, InvalidRange)
	}
	kind = pick(r, kinds)
	finish = "STOP"
	switch kind {
	case InvalidMissing:
		sl := pick(r, required)
		sl.obj.obj = append(sl.obj.obj[:sl.idx], sl.obj.obj[sl.idx+1:]...)
	case InvalidWrongType:
		sl := pick(r, slots)
		wrongType(&sl.obj.obj[sl.idx].v)
	case InvalidEnum:
		sl := pick(r, enums)
		sl.obj.obj[sl.idx].v = value{kind: vString, s: outOfEnum(sl.s.enumStr)}
	case InvalidRange:
		sl := pick(r, nums)
		sl.obj.obj[sl.idx].v = outOfRange(r, sl.s, sl.obj.obj[sl.idx].name)
	}
	js := string(appendValue(nil, root))
	switch kind {
	case InvalidFence:
		text = "```json\n" + js + "\n```"
	case InvalidProse:
		text = "Sure! Here is the JSON you asked for:\n\n" + js + "\n\nLet me know if you need anything else."
	case InvalidTruncated:
		text = truncateUTF8(js, len(js)*r.between(30, 80)/100)
		finish = "MAX_TOKENS"
	default:
		text = js
	}
	return text, finish, kind
}

// findSchemaOwner returns the object schema whose property the slot is.
func findSchemaOwner(root *schema, sl slot) *schema {
	var walk func(s *schema) *schema
	walk = func(s *schema) *schema {
		for _, p := range s.props {
			if p.s == sl.s && p.name == sl.obj.obj[sl.idx].name {
				return s
			}
			if o := walk(p.s); o != nil {
				return o
			}
		}
		if s.items != nil {
			return walk(s.items)
		}
		return nil
	}
	if o := walk(root); o != nil {
		return o
	}
	return root
}

func wrongType(v *value) {
	switch v.kind {
	case vInt:
		*v = value{kind: vString, s: strconv.FormatInt(v.i, 10)}
	case vFloat:
		*v = value{kind: vString, s: strconv.FormatFloat(v.f, 'f', -1, 64)}
	case vBool:
		s := "no"
		if v.b {
			s = "yes"
		}
		*v = value{kind: vString, s: s}
	case vArray:
		if len(v.arr) > 0 && v.arr[0].kind == vString {
			*v = v.arr[0]
		} else {
			*v = value{kind: vString, s: string(appendValue(nil, v))}
		}
	case vString, vRaw:
		*v = value{kind: vInt, i: int64(len(v.s) + 1)}
	default:
		*v = value{kind: vString, s: string(appendValue(nil, v))}
	}
}

func outOfEnum(enum []string) string {
	in := map[string]bool{}
	for _, e := range enum {
		in[e] = true
	}
	cands := []string{"unknown", "other", "N/A", "mixed"}
	if len(enum) > 0 {
		// Near misses first: the case or punctuation a model gets wrong.
		cands = append([]string{strings.ToUpper(enum[0]), enum[0] + "."}, cands...)
	}
	for _, c := range cands {
		if !in[c] {
			return c
		}
	}
	return "unknown-value"
}

// outOfRange is a value a sanity check would catch: 212 or -3 unless the
// bounds make those legal.
func outOfRange(r *stream, s *schema, name string) value {
	lo, hi, glo, ghi := numRange(s, normName(name))
	if math.IsInf(ghi, 1) {
		ghi = hi
	}
	if math.IsInf(glo, -1) {
		glo = lo
	}
	var x float64
	if r.intn(2) == 0 {
		x = 212
		if ghi >= x {
			x = math.Floor(ghi*2) + 1
		}
	} else {
		x = -3
		if glo <= x {
			x = math.Ceil(glo) - 3
		}
	}
	if s.typ == "integer" {
		return value{kind: vInt, i: int64(x)}
	}
	return value{kind: vFloat, f: x}
}

func truncateUTF8(s string, n int) string {
	if n >= len(s) {
		n = len(s) - 1
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
