package sim

import (
	"encoding/json"
	"strconv"
)

// value is a generated JSON value; objects keep their field order.
type value struct {
	kind byte
	s    string
	i    int64
	f    float64
	b    bool
	raw  json.RawMessage
	arr  []value
	obj  []field
}

type field struct {
	name string
	v    value
}

const (
	vNull byte = iota
	vBool
	vInt
	vFloat
	vString
	vRaw
	vArray
	vObject
)

func appendValue(b []byte, v *value) []byte {
	switch v.kind {
	case vNull:
		return append(b, "null"...)
	case vBool:
		return strconv.AppendBool(b, v.b)
	case vInt:
		return strconv.AppendInt(b, v.i, 10)
	case vFloat:
		return strconv.AppendFloat(b, v.f, 'f', -1, 64)
	case vString:
		return appendString(b, v.s)
	case vRaw:
		return append(b, v.raw...)
	case vArray:
		b = append(b, '[')
		for i := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, &v.arr[i])
		}
		return append(b, ']')
	default:
		b = append(b, '{')
		for i := range v.obj {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v.obj[i].name)
			b = append(b, ':')
			b = appendValue(b, &v.obj[i].v)
		}
		return append(b, '}')
	}
}
