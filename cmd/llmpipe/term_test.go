package main

import "testing"

func TestTermSafe(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text · é 😀", "plain text · é 😀"},
		{"two\nlines\tand a tab", "two\nlines\tand a tab"},
		{"\x1b[2J", `\x1b[2J`},
		{"bell\a back\b cr\r ff\f vt\v nul\x00 del\x7f", `bell\a back\b cr\r ff\f vt\v nul\x00 del\x7f`},
		{"csi\u009b[31m", `csi\u009b[31m`},
		{"rtl\u202eabc\u2066x\u2069\u200f", `rtl\u202eabc\u2066x\u2069\u200f`},
		{"bad\xffutf8\xc3", `bad\xffutf8\xc3`},
		{"zwj 👩\u200d💻 stays", "zwj 👩\u200d💻 stays"},
	}
	for _, c := range cases {
		if got := termSafe(c.in); got != c.want {
			t.Errorf("termSafe(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
