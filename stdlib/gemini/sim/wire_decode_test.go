package sim

import (
	"encoding/json"
	"reflect"
	"testing"
)

var wireSamples = []string{
	benchBody,
	`{}`,
	` { "contents" : [ ] } `,
	`{"contents":[{"role":"user","parts":[{"text":"a\"b\\c\n\u00e9 /"},{"inlineData":{"data":"x"}}]}],"systemInstruction":{"parts":[{"text":"be brief"}]}}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"cachedContent":"cachedContents/abc","tools":[{"a":[1,2.5e3,-0,true,false,null]}],"safetySettings":[]}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":64,"temperature":0.5,"responseJsonSchema":{"type":"object"}}}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":1.5}}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":1e3}}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":-7}}`,
	`{"Contents":[{"parts":[{"text":"x"}]}]}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"contents":[]}`,
	`{"contents":null}`,
	`{"contents":"x"}`,
	`{"contents":[{"parts":[{"text":null}]}]}`,
	`{"contents":[{"parts":[{"text":"\ud83d\ude00"}]}]}`,
	"{\"contents\":[{\"parts\":[{\"text\":\"\xff\"}]}]}",
	`{"contents":[{"parts":[{"text":"x"}]}],}`,
	`{"contents":[{"parts":[{"text":"x"}]}]} x`,
	`{"contents":[{"parts":[{"text":"x"}]}]`,
	`{"tools":01}`,
	`[]`,
	`null`,
	`{"systemInstruction":null,"generationConfig":null}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":128,"includeThoughts":true}}}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":-1}}}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":null}}}`,
	`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{}}}`,
}

// The fast decoder must either give up or agree with encoding/json.
func checkWire(t *testing.T, body string) {
	t.Helper()
	var fast, slow genRequest
	if !decodeGenRequest([]byte(body), &fast) {
		return
	}
	if err := json.Unmarshal([]byte(body), &slow); err != nil {
		t.Fatalf("%s: fast decoder accepted what encoding/json refuses: %v", body, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s:\n fast %#v\n slow %#v", body, fast, slow)
	}
}

func TestDecodeGenRequestMatchesEncodingJSON(t *testing.T) {
	for _, s := range wireSamples {
		checkWire(t, s)
	}
	// The usual request must take the fast path, or the decoder is dead code.
	var req genRequest
	if !decodeGenRequest([]byte(benchBody), &req) || len(req.Contents) != 1 || req.GenerationConfig == nil || !hasJSON(req.GenerationConfig.ResponseSchema) {
		t.Fatalf("benchBody not decoded: %#v", req)
	}
	for _, bad := range []string{`{"Contents":[]}`, `{"contents":[],"contents":[]}`, `{"contents":null}`, `{} x`} {
		if decodeGenRequest([]byte(bad), &req) {
			t.Errorf("accepted %s", bad)
		}
	}
}

func FuzzDecodeGenRequest(f *testing.F) {
	for _, s := range wireSamples {
		f.Add(s)
	}
	f.Fuzz(checkWire)
}
