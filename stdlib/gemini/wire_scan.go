package gemini

import (
	"strconv"

	"google.golang.org/genai"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
)

// scanReply reads a generateContent reply into sum in one pass with
// internal/jsonscan, slicing the text out of one copy of the body.
// encoding/json spent about a third of Generate's own CPU on a reply (a
// validity scan, reflection, a struct per candidate, content and part).
//
// It gives up (false) on anything it is not sure encoding/json would read
// the same way: a syntax error, a null or mistyped known field, a known key
// spelt in another case or repeated, a number that is not a plain int32, a
// \u surrogate, invalid UTF-8. The caller then runs encoding/json, which
// decides. TestScanReplyMatchesJSON and FuzzScanReply hold the two alike.
func scanReply(body []byte, sum *replySummary) bool {
	d := replyScanner{Scanner: jsonscan.New(string(body))}
	*sum = replySummary{}
	done := d.Members(func(k string) bool {
		switch k {
		case "candidates":
			first := true
			return d.Elements(func() bool {
				if first {
					first, sum.candidates = false, true
					return d.candidate(&sum.text, &sum.finish)
				}
				// Read for its types, as encoding/json reads it, and dropped.
				var text string
				var finish genai.FinishReason
				return d.candidate(&text, &finish)
			})
		case "promptFeedback":
			return d.Members(func(k string) bool {
				if k == "blockReason" {
					return d.str(&sum.blockReason)
				}
				return d.Skip()
			}, "blockReason")
		case "usageMetadata":
			u := &sum.usage
			return d.Members(func(k string) bool {
				switch k {
				case "promptTokenCount":
					return d.int32(&u.PromptTokens)
				case "candidatesTokenCount":
					return d.int32(&u.OutputTokens)
				case "cachedContentTokenCount":
					return d.int32(&u.CachedTokens)
				case "thoughtsTokenCount":
					return d.int32(&u.ThinkingTokens)
				}
				return d.Skip()
			}, "promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount")
		case "modelVersion":
			return d.str(&sum.modelVersion)
		}
		return d.Skip()
	}, "candidates", "promptFeedback", "usageMetadata", "modelVersion")
	return done && d.End()
}

// replyScanner adds the reply's shape to the scanner.
type replyScanner struct{ jsonscan.Scanner }

// candidate reads one candidate: its visible text (the non-thought parts,
// joined) and its finish reason.
func (d *replyScanner) candidate(text *string, finish *genai.FinishReason) bool {
	return d.Members(func(k string) bool {
		switch k {
		case "content":
			return d.Members(func(k string) bool {
				if k != "parts" {
					return d.Skip()
				}
				n := 0 // visible parts joined so far
				return d.Elements(func() bool {
					var t string
					var thought bool
					ok := d.Members(func(k string) bool {
						switch k {
						case "text":
							return d.str(&t)
						case "thought":
							return d.bool(&thought)
						}
						return d.Skip()
					}, "text", "thought")
					if ok && !thought {
						if n == 0 {
							*text = t
						} else {
							*text += t
						}
						n++
					}
					return ok
				})
			}, "parts")
		case "finishReason":
			return d.str((*string)(finish))
		}
		return d.Skip()
	}, "content", "finishReason")
}

func (d *replyScanner) str(dst *string) bool {
	s, ok := d.Str()
	*dst = s
	return ok
}

func (d *replyScanner) bool(dst *bool) bool {
	switch d.Peek() {
	case 't':
		*dst = true
		return d.Literal("true")
	case 'f':
		*dst = false
		return d.Literal("false")
	}
	return false
}

// int32 reads a number as encoding/json reads it into an int32: a plain
// integer in range, nothing else.
func (d *replyScanner) int32(dst *int) bool {
	text, ok := d.Number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(text, 10, 32)
	*dst = int(n)
	return err == nil
}
