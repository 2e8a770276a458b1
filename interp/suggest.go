package interp

import "unicode/utf8"

// nearest returns the candidate closest to name within edit distance 2 (and
// less than the name's length, so that "a" does not suggest "b"), or "".
// Ties go to the alphabetically first candidate so output is stable.
func nearest(name string, cands []string) string {
	n := utf8.RuneCountInString(name)
	best, bestD := "", 3
	for _, c := range cands {
		if c == name {
			continue
		}
		// Lengths further apart than the best distance so far cannot
		// beat it: skip them without the quadratic distance.
		if m := utf8.RuneCountInString(c); m-n >= bestD || n-m >= bestD {
			continue
		}
		d := editDistance(name, c)
		if d < len([]rune(name)) && (d < bestD || d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance counting an adjacent swap as one
// edit (so "frist" is one edit from "first").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
