package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/llmpipe/llmpipe/lang"
)

// lspClient drives `llmpipe lsp` over pipes, as an editor does.
type lspClient struct {
	t     *testing.T
	conn  *jsonrpc2.Conn
	diags chan protocol.PublishDiagnosticsParams
	done  chan int
}

func startLSP(t *testing.T) *lspClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()   // client → server
	outR, outW := io.Pipe() // server → client
	c := &lspClient{t: t, diags: make(chan protocol.PublishDiagnosticsParams, 16), done: make(chan int, 1)}
	go func() {
		c.done <- run(ctx, []string{"lsp", "--stdio"}, inR, outW, io.Discard)
		outW.Close()
	}()
	handler := jsonrpc2.HandlerWithError(func(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
		if req.Method == protocol.ServerTextDocumentPublishDiagnostics && req.Params != nil {
			var p protocol.PublishDiagnosticsParams
			if err := json.Unmarshal(*req.Params, &p); err == nil {
				c.diags <- p
			}
		}
		return nil, nil
	})
	c.conn = jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(rwPipe{outR, inW}, jsonrpc2.VSCodeObjectCodec{}), handler)
	t.Cleanup(func() {
		_ = c.conn.Notify(context.Background(), "exit", nil)
		select {
		case code := <-c.done:
			if code != 0 {
				t.Errorf("lsp exited %d", code)
			}
		case <-time.After(30 * time.Second):
			t.Error("lsp did not exit after the exit notification")
		}
		cancel()
		c.conn.Close()
	})
	return c
}

type rwPipe struct {
	io.Reader
	io.WriteCloser
}

func (c *lspClient) call(method string, params, result any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.conn.Call(ctx, method, params, result); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

func (c *lspClient) notify(method string, params any) {
	c.t.Helper()
	if err := c.conn.Notify(context.Background(), method, params); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

// nextDiagnostics waits for the diagnostics of a document version.
func (c *lspClient) nextDiagnostics(version int) []protocol.Diagnostic {
	c.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case p := <-c.diags:
			if p.Version != nil && int(*p.Version) == version {
				return p.Diagnostics
			}
		case <-deadline:
			c.t.Fatalf("no diagnostics for version %d", version)
		}
	}
}

// The file has three mistakes; the third sits after non-ASCII text on its
// line, so its UTF-16 column differs from the checker's rune column.
const lspFile = `source people {
  jsonl = "people.jsonl"
}

schema Person {
  name string "full name"
  age int "age in years"
}

ladder cheap = ["gemini-2.5-flsh", "gemini-2.5-pro"]

step extract {
  from = peple
  models = cheap
  output = Person
  prompt = "Who is in {{ item.text }}?"
  check age "ℵ𝄞 must be positive": output.agee > 0
  check age "must be below 200": output.age < 200
}
`

func TestLSPSession(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "job.llmp")
	if err := os.WriteFile(filepath.Join(dir, "people.jsonl"), []byte(`{"id":"1","text":"Ann"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	uri := "file://" + filepath.ToSlash(path)
	c := startLSP(t)

	var init struct {
		Capabilities struct {
			PositionEncoding string `json:"positionEncoding"`
			HoverProvider    bool   `json:"hoverProvider"`
		} `json:"capabilities"`
	}
	c.call("initialize", map[string]any{"processId": nil, "rootUri": nil, "capabilities": map[string]any{}}, &init)
	if init.Capabilities.PositionEncoding != "utf-16" || !init.Capabilities.HoverProvider {
		t.Fatalf("initialize: %+v", init.Capabilities)
	}
	c.notify("initialized", map[string]any{})

	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri, "languageId": "llmpipe", "version": 1, "text": lspFile}})
	got := c.nextDiagnostics(1)
	type want struct {
		line, from, to int
		sev            protocol.DiagnosticSeverity
		msg            string
	}
	check := func(got []protocol.Diagnostic, wants []want) {
		t.Helper()
		if len(got) != len(wants) {
			t.Fatalf("got %d diagnostics, want %d: %+v", len(got), len(wants), got)
		}
		for i, w := range wants {
			g := got[i]
			r := g.Range
			if int(r.Start.Line) != w.line || int(r.End.Line) != w.line || int(r.Start.Character) != w.from || int(r.End.Character) != w.to {
				t.Errorf("diagnostic %d range = %d:%d-%d:%d, want %d:%d-%d:%d", i, r.Start.Line, r.Start.Character, r.End.Line, r.End.Character, w.line, w.from, w.line, w.to)
			}
			if g.Message != w.msg {
				t.Errorf("diagnostic %d message = %q, want %q", i, g.Message, w.msg)
			}
			if g.Severity == nil || *g.Severity != w.sev {
				t.Errorf("diagnostic %d severity = %v, want %v", i, g.Severity, w.sev)
			}
		}
	}
	modelDiag := want{9, 16, 33, protocol.DiagnosticSeverityError, "unknown model \"gemini-2.5-flsh\"\nhelp: did you mean \"gemini-2.5-flash\"?"}
	// "  check age \"ℵ𝄞 must be positive\": output." is 42 runes but 43
	// UTF-16 units (𝄞 is a surrogate pair).
	fieldDiag := want{16, 43, 47, protocol.DiagnosticSeverityError, "output has no field \"agee\"\nhelp: did you mean \"age\"?"}
	check(got, []want{
		modelDiag,
		{12, 9, 14, protocol.DiagnosticSeverityError, "unknown source or step \"peple\"\nhelp: did you mean \"people\"?"},
		fieldDiag,
	})

	// The did-you-mean becomes a quick fix.
	var actions []struct {
		Title string `json:"title"`
		Edit  struct {
			Changes map[string][]protocol.TextEdit `json:"changes"`
		} `json:"edit"`
	}
	c.call("textDocument/codeAction", map[string]any{
		"textDocument": map[string]any{"uri": uri},
		"range":        got[1].Range,
		"context":      map[string]any{"diagnostics": []protocol.Diagnostic{got[1]}},
	}, &actions)
	if len(actions) != 1 || len(actions[0].Edit.Changes[uri]) != 1 || actions[0].Edit.Changes[uri][0].NewText != "people" {
		t.Fatalf("code actions = %+v", actions)
	}

	fixed := strings.Replace(lspFile, "from = peple", "from = people", 1)
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 2},
		"contentChanges": []map[string]any{{"text": fixed}},
	})
	check(c.nextDiagnostics(2), []want{modelDiag, fieldDiag})

	pos := func(line int, after string) map[string]any {
		t.Helper()
		l := strings.Split(fixed, "\n")[line]
		i := strings.Index(l, after)
		if i < 0 {
			t.Fatalf("%q not on line %d", after, line)
		}
		return map[string]any{"line": line, "character": len([]rune(l[:i+len(after)]))}
	}
	doc := map[string]any{"uri": uri}

	var hover protocol.Hover
	c.call("textDocument/hover", map[string]any{"textDocument": doc, "position": pos(17, "output.a")}, &hover)
	if mc, _ := json.Marshal(hover.Contents); !strings.Contains(string(mc), "age") || !strings.Contains(string(mc), "`int`") {
		t.Errorf("hover on output.age = %s, want its type int", mc)
	}

	var list protocol.CompletionList
	c.call("textDocument/completion", map[string]any{"textDocument": doc, "position": pos(17, "output.")}, &list)
	var labels []string
	for _, it := range list.Items {
		labels = append(labels, it.Label)
	}
	if strings.Join(labels, ",") != "name,age" {
		t.Errorf("completion after output. = %v, want [name age]", labels)
	}

	var loc protocol.Location
	c.call("textDocument/definition", map[string]any{"textDocument": doc, "position": pos(13, "models = ch")}, &loc)
	if loc.URI != uri || loc.Range.Start.Line != 9 || loc.Range.Start.Character != 7 || loc.Range.End.Character != 12 {
		t.Errorf("definition of cheap = %+v, want the ladder's name at 9:7-9:12", loc)
	}

	var edits []protocol.TextEdit
	c.call("textDocument/formatting", map[string]any{"textDocument": doc, "options": map[string]any{"tabSize": 2, "insertSpaces": true}}, &edits)
	f, diags := lang.Parse(path, []byte(fixed))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if want := string(lang.Format(f)); len(edits) != 1 || edits[0].NewText != want {
		t.Errorf("formatting = %+v, want the fmt text:\n%s", edits, want)
	}
}
