package box

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"
)

func TestStrings(t *testing.T) {
	var b Strings
	var vals []any
	var want []string
	for i := range 1000 {
		s := fmt.Sprintf("value %d %s", i, strings.Repeat("x", i%7))
		if i%10 == 0 {
			s = ""
		}
		vals = append(vals, b.String(s))
		want = append(want, s)
	}
	goruntime.GC() // the slabs must survive through the values alone
	for i, v := range vals {
		s, ok := v.(string)
		if !ok || s != want[i] || v != any(want[i]) {
			t.Fatalf("value %d = %#v, want %q", i, v, want[i])
		}
	}
	m := map[any]int{}
	for i, v := range vals {
		m[v] = i
	}
	for i, s := range want {
		if got := m[s]; want[got] != s {
			t.Fatalf("%q hashes apart from its box (value %d)", s, i)
		}
	}
	if got := fmt.Sprint(vals[1]); got != want[1] {
		t.Fatalf("fmt prints %q, want %q", got, want[1])
	}
}

func TestStringsAllocs(t *testing.T) {
	var b Strings
	var sink any
	n := testing.AllocsPerRun(1000, func() { sink = b.String("some text") })
	_ = sink
	if n > 0.05 {
		t.Fatalf("%.2f allocations per string, want about 1/%d", n, slabLen)
	}
}
