package bench

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
)

var words = []string{
	"quota", "river", "Alice", "ledger", "window", "amber", "signal", "harbor",
	"maple", "Berlin", "copper", "thread", "velvet", "orbit", "meadow", "pillar",
	"lantern", "Kyoto", "granite", "tunnel", "saffron", "beacon", "cobalt", "delta",
}

// itemSpec says how many items to write and how long their text is, in
// tokens as the simulator counts them (a token is four characters).
type itemSpec struct {
	N          int
	Tokens     int // mean
	Spread     int // uniform ± this many tokens
	Prefix     string
	FirstIndex int
}

// writeItems writes a JSON Lines source of {"id","text"} items of plain
// ASCII words. The runtime's estimate and the simulator's count are the
// same estimator (interp/tokens), so they agree unless a scenario skews
// them.
func writeItems(path string, spec itemSpec, seed int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	buf := make([]byte, 0, 64<<10)
	for i := range spec.N {
		toks := spec.Tokens
		if spec.Spread > 0 {
			toks += rng.IntN(2*spec.Spread+1) - spec.Spread
		}
		chars := max(toks*4, 8)
		buf = buf[:0]
		buf = append(buf, `{"id":"`...)
		buf = append(buf, spec.Prefix...)
		buf = strconv.AppendInt(buf, int64(spec.FirstIndex+i), 10)
		buf = append(buf, `","text":"`...)
		start := len(buf)
		for len(buf)-start < chars {
			if len(buf) > start {
				buf = append(buf, ' ')
			}
			buf = append(buf, words[rng.IntN(len(words))]...)
		}
		buf = buf[:start+chars]
		buf = append(buf, "\"}\n"...)
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// countLines counts the records in a JSON Lines sink; a missing file holds
// none.
func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var n int64
	for {
		b, err := r.ReadSlice('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			n++
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return n, nil
		}
	}
}

// modelDecl is a model block of a bench pipeline; zero limits are left out
// (unknown model ids then run unlimited).
type modelDecl struct {
	Name, ID      string
	RPM, TPM, RPD int
	Concurrency   int
}

func (m modelDecl) String() string {
	s := fmt.Sprintf("model %s {\n  id = %q\n", m.Name, m.ID)
	for _, kv := range []struct {
		k string
		v int
	}{{"rpm", m.RPM}, {"tpm", m.TPM}, {"rpd", m.RPD}, {"concurrency", m.Concurrency}} {
		if kv.v > 0 {
			s += fmt.Sprintf("  %s = %d\n", kv.k, kv.v)
		}
	}
	return s + "}\n"
}

// stepDecl is one step reading a JSON Lines file and writing its
// successes and failures to out/<name>.ok.jsonl and .failed.jsonl.
type stepDecl struct {
	Name, Items string
	Models      []string
	Schema      bool   // ask for the Answer schema (so wrong answers can happen)
	Cache       string // cache block name, "" for none
	Timeout     string // "" for the default
}

const answerSchema = `
schema Answer {
  topic string
  score int
}
`

func (s stepDecl) String() string {
	src := fmt.Sprintf("source %s_in {\n  jsonl = %q\n  id    = item.id\n}\n\n", s.Name, s.Items)
	src += fmt.Sprintf("step %s {\n  from   = %s_in\n  models = [", s.Name, s.Name)
	for i, m := range s.Models {
		if i > 0 {
			src += ", "
		}
		src += m
	}
	src += "]\n  prompt = \"{{ item.text }}\"\n"
	if s.Schema {
		src += "  output = Answer\n"
	}
	if s.Cache != "" {
		src += "  cache  = " + s.Cache + "\n"
	}
	if s.Timeout != "" {
		src += "  timeout = " + s.Timeout + "\n"
	}
	src += "  retry {\n    attempts       = 8\n    escalate_after = 1\n    backoff        = 20ms .. 1s\n  }\n}\n\n"
	src += fmt.Sprintf("sink %s_ok {\n  from  = %s\n  jsonl = \"out/%s.ok.jsonl\"\n}\n\n", s.Name, s.Name, s.Name)
	src += fmt.Sprintf("sink %s_failed {\n  from  = %s.failed\n  jsonl = \"out/%s.failed.jsonl\"\n}\n\n", s.Name, s.Name, s.Name)
	return src
}
