package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// generator draws a conforming value for a schema from the prompt.
type generator struct {
	r *stream
	p *promptInfo
}

func (g *generator) gen(s *schema, name string) value {
	if len(s.enum) > 0 {
		return g.enumValue(s)
	}
	switch s.typ {
	case "object":
		v := value{kind: vObject}
		for _, pr := range s.props {
			// Models fill most optional fields, not all.
			if !s.isRequired(pr.name) && g.r.float() < 0.15 {
				continue
			}
			v.obj = append(v.obj, field{name: pr.name, v: g.gen(pr.s, pr.name)})
		}
		return v
	case "array":
		lo, hi := 1, 3
		if s.minItems > lo {
			lo = s.minItems
		}
		if s.maxItems >= 0 && s.maxItems < hi {
			hi = s.maxItems
		}
		if lo > hi {
			hi = lo
		}
		n := g.r.between(lo, hi)
		v := value{kind: vArray, arr: make([]value, 0, n)}
		item := s.items
		if item == nil {
			item = &schema{typ: "string", minItems: -1, maxItems: -1, minLength: -1, maxLength: -1}
		}
		for i := 0; i < n; i++ {
			v.arr = append(v.arr, g.gen(item, singular(name)))
		}
		return v
	case "integer":
		return value{kind: vInt, i: g.integer(s, name)}
	case "number":
		return value{kind: vFloat, f: g.number(s, name)}
	case "boolean":
		return value{kind: vBool, b: g.r.intn(2) == 1}
	case "null":
		return value{kind: vNull}
	default:
		return value{kind: vString, s: g.str(s, name)}
	}
}

// enumValue prefers a value the prompt mentions, as a grounded answer would.
func (g *generator) enumValue(s *schema) value {
	var seen []string
	for _, e := range s.enumStr {
		if e != "" && strings.Contains(g.p.lower, strings.ToLower(e)) {
			seen = append(seen, e)
		}
	}
	if len(seen) > 0 {
		return value{kind: vString, s: pick(g.r, seen)}
	}
	return value{kind: vRaw, raw: pick(g.r, s.enum)}
}

// normName lower-cases a field name and drops separators: "First_Name"
// and "first-name" both become "firstname".
func normName(name string) string {
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

func singular(name string) string {
	if strings.HasSuffix(name, "ies") {
		return name[:len(name)-3] + "y"
	}
	return strings.TrimSuffix(name, "s")
}

func hasAny(n string, keys ...string) bool {
	for _, k := range keys {
		if strings.Contains(n, k) {
			return true
		}
	}
	return false
}

func (g *generator) str(s *schema, name string) string {
	out := g.strRaw(s, name)
	if s.maxLength >= 0 && utf8.RuneCountInString(out) > s.maxLength {
		out = string([]rune(out)[:s.maxLength])
	}
	for s.minLength > 0 && utf8.RuneCountInString(out) < s.minLength {
		out += " " + pick(g.r, g.p.words)
	}
	return out
}

func (g *generator) strRaw(s *schema, name string) string {
	n := normName(name)
	p, r := g.p, g.r
	switch {
	case s.format == "email" || hasAny(n, "email", "mail"):
		if len(p.emails) > 0 {
			return pick(r, p.emails)
		}
		return strings.ToLower(strings.ReplaceAll(g.personName(), " ", ".")) + "@example.com"
	case s.format == "uri" || s.format == "url" || hasAny(n, "url", "link", "website", "homepage"):
		if len(p.urls) > 0 {
			return pick(r, p.urls)
		}
		return "https://example.com/" + strings.ToLower(pick(r, p.words))
	case s.format == "date-time" || hasAny(n, "timestamp", "datetime"):
		if len(p.dates) > 0 {
			d := pick(r, p.dates)
			if len(d) == 10 {
				d += "T00:00:00Z"
			}
			return d
		}
		return g.date().Format(time.RFC3339)
	case s.format == "date" || hasAny(n, "date", "birthday", "dob"):
		if len(p.dates) > 0 {
			return pick(r, p.dates)[:10]
		}
		return g.date().Format(time.DateOnly)
	case hasAny(n, "phone", "tel", "mobile"):
		if len(p.phones) > 0 {
			return pick(r, p.phones)
		}
		return fmt.Sprintf("+1-555-%04d", r.intn(10000))
	case n == "firstname" || n == "givenname":
		return strings.Fields(g.personName())[0]
	case n == "lastname" || n == "surname" || n == "familyname":
		f := strings.Fields(g.personName())
		return f[len(f)-1]
	case hasAny(n, "name", "author", "person", "customer", "user", "city", "country", "company", "organization", "organisation", "brand", "place", "location"):
		return g.personName()
	case n == "title" || n == "headline" || n == "subject":
		if len(p.capRuns) > 0 {
			return pick(r, p.capRuns)
		}
		return p.span(r, 2, 6)
	case n == "id" || strings.HasSuffix(n, "id"):
		for _, w := range p.words {
			if strings.ContainsAny(w, "0123456789") && !strings.Contains(w, "@") {
				return w
			}
		}
		return strconv.FormatUint(r.next()&0xffffffff, 16)
	case hasAny(n, "summary", "description", "reason", "explanation", "rationale", "text", "comment", "answer", "content", "body", "notes"):
		return p.span(r, 6, 20)
	default:
		return p.span(r, 1, 5)
	}
}

// personName is a run of Capitalized words from the prompt if it has one.
func (g *generator) personName() string {
	switch {
	case len(g.p.capRuns) > 0:
		return pick(g.r, g.p.capRuns)
	case len(g.p.capOne) > 0:
		return pick(g.r, g.p.capOne)
	default:
		return g.p.span(g.r, 1, 2)
	}
}

func (g *generator) date() time.Time {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(g.r.intn(6*365*24)) * time.Hour)
}

// numRange is the plausible range for a numeric field: the schema's bounds,
// else one guessed from the name. grounded bounds what may be taken from
// the prompt.
func numRange(s *schema, n string) (lo, hi, glo, ghi float64) {
	switch {
	case hasAny(n, "age"):
		lo, hi, glo, ghi = 18, 90, 0, 120
	case hasAny(n, "year"):
		lo, hi, glo, ghi = 1950, 2025, 1000, 2100
	case hasAny(n, "rating", "stars"):
		lo, hi, glo, ghi = 1, 5, 0, 10
	case hasAny(n, "confidence", "probability"):
		lo, hi, glo, ghi = 0, 1, 0, 1
	case hasAny(n, "percent", "pct"):
		lo, hi, glo, ghi = 0, 100, 0, 100
	case hasAny(n, "count", "quantity", "qty", "number", "num", "total"):
		lo, hi, glo, ghi = 1, 10, 0, math.Inf(1)
	case hasAny(n, "price", "amount", "cost"):
		lo, hi, glo, ghi = 1, 500, 0, math.Inf(1)
	default:
		lo, hi, glo, ghi = 0, 100, math.Inf(-1), math.Inf(1)
	}
	if s.minimum != nil {
		lo, glo = *s.minimum, *s.minimum
		if hi < lo {
			hi = lo + 100
		}
	}
	if s.maximum != nil {
		hi, ghi = *s.maximum, *s.maximum
		if lo > hi {
			lo = hi - 100
			if s.minimum != nil {
				lo = *s.minimum
			}
		}
	}
	return lo, hi, glo, ghi
}

func (g *generator) integer(s *schema, name string) int64 {
	lo, hi, glo, ghi := numRange(s, normName(name))
	var ok []int64
	for _, x := range g.p.ints {
		if f := float64(x); f >= glo && f <= ghi {
			ok = append(ok, x)
		}
	}
	if len(ok) > 0 {
		return pick(g.r, ok)
	}
	return int64(g.r.between(int(math.Ceil(lo)), int(math.Floor(hi))))
}

func (g *generator) number(s *schema, name string) float64 {
	lo, hi, glo, ghi := numRange(s, normName(name))
	var ok []float64
	for _, x := range g.p.floats {
		if x >= glo && x <= ghi {
			ok = append(ok, x)
		}
	}
	if len(ok) > 0 {
		return pick(g.r, ok)
	}
	f := lo + g.r.float()*(hi-lo)
	if hi-lo <= 1 {
		return math.Round(f*100) / 100
	}
	return math.Round(f*10) / 10
}

// plainText is the reply to a request without a schema: a sentence or two
// built from the prompt's words.
func plainText(r *stream, p *promptInfo) string {
	s := p.span(r, 8, 30)
	if s == "" {
		return "OK."
	}
	first, size := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(first)) + s[size:] + "."
}
