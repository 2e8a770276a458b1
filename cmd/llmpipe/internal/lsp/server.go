package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"
)

// Options configures a server.
type Options struct {
	// Debounce is how long the server waits after a change before checking
	// the document again; 0 means DefaultDebounce.
	Debounce time.Duration
	// Version is reported to the client as the server's version.
	Version string
}

// DefaultDebounce is short enough to feel immediate and long enough that a
// burst of keystrokes costs one check.
const DefaultDebounce = 150 * time.Millisecond

// Server is one language-server session over one connection.
type Server struct {
	opts    Options
	handler protocol.Handler

	mu      sync.Mutex
	docs    map[protocol.DocumentUri]*document
	enc     encoding
	timers  map[protocol.DocumentUri]*time.Timer
	closing bool
	checks  sync.WaitGroup // debounced checks in flight

	conn *jsonrpc2.Conn
}

// Serve runs a language-server session reading requests from in and writing
// replies to out until the client sends exit, in ends, or ctx is done.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	s := &Server{
		opts:   opts,
		docs:   map[protocol.DocumentUri]*document{},
		enc:    utf16,
		timers: map[protocol.DocumentUri]*time.Timer{},
	}
	s.handler = s.protocolHandler()
	stream := jsonrpc2.NewBufferedStream(pipe{in, out}, jsonrpc2.VSCodeObjectCodec{})
	s.conn = jsonrpc2.NewConn(ctx, stream, jsonrpc2.HandlerWithError(s.handle))
	select {
	case <-s.conn.DisconnectNotify():
	case <-ctx.Done():
		s.conn.Close()
	}
	s.stopChecks()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// pipe joins a reader and a writer into the stream jsonrpc2 wants. Closing
// it closes whichever side can be closed, so a blocked read ends.
type pipe struct {
	io.Reader
	io.Writer
}

func (p pipe) Close() error {
	var errs []error
	if c, ok := p.Reader.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	if c, ok := p.Writer.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// handle adapts a jsonrpc2 request to glsp's dispatch, as glsp's own server
// does, but on any stream and with the initialize request's raw parameters
// seen first (glsp's 3.16 types lack positionEncodings).
func (s *Server) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	gc := &glsp.Context{
		Method: req.Method,
		Notify: func(method string, params any) { _ = conn.Notify(ctx, method, params) },
		Call:   func(method string, params, result any) { _ = conn.Call(ctx, method, params, result) },
	}
	if req.Params != nil {
		gc.Params = *req.Params
	}
	if req.Method == protocol.MethodInitialize {
		s.negotiate(gc.Params)
	}
	if req.Method == protocol.MethodExit {
		return nil, conn.Close()
	}
	r, validMethod, validParams, err := s.handler.Handle(gc)
	switch {
	case !validMethod:
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "method not supported: " + req.Method}
	case !validParams:
		msg := "invalid params"
		if err != nil {
			msg = err.Error()
		}
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: msg}
	case err != nil:
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidRequest, Message: err.Error()}
	}
	return r, nil
}

// negotiate reads the client's position encodings (LSP 3.17).
func (s *Server) negotiate(raw json.RawMessage) {
	var p struct {
		Capabilities struct {
			General struct {
				PositionEncodings []string `json:"positionEncodings"`
			} `json:"general"`
		} `json:"capabilities"`
	}
	_ = json.Unmarshal(raw, &p)
	s.mu.Lock()
	s.enc = pickEncoding(p.Capabilities.General.PositionEncodings)
	s.mu.Unlock()
}

// capabilities is InitializeResult's capabilities with the 3.17 field glsp's
// types do not have.
type capabilities struct {
	protocol.ServerCapabilities
	PositionEncoding string `json:"positionEncoding"`
}

type initializeResult struct {
	Capabilities capabilities                         `json:"capabilities"`
	ServerInfo   *protocol.InitializeResultServerInfo `json:"serverInfo,omitempty"`
}

func (s *Server) protocolHandler() protocol.Handler {
	return protocol.Handler{
		Initialize:                     s.initialize,
		Initialized:                    func(*glsp.Context, *protocol.InitializedParams) error { return nil },
		Shutdown:                       func(*glsp.Context) error { s.stopChecks(); return nil },
		SetTrace:                       func(*glsp.Context, *protocol.SetTraceParams) error { return nil },
		TextDocumentDidOpen:            s.didOpen,
		TextDocumentDidChange:          s.didChange,
		TextDocumentDidClose:           s.didClose,
		TextDocumentDidSave:            func(*glsp.Context, *protocol.DidSaveTextDocumentParams) error { return nil },
		TextDocumentHover:              s.hover,
		TextDocumentCompletion:         s.completion,
		TextDocumentDefinition:         s.definition,
		TextDocumentReferences:         s.references,
		TextDocumentFormatting:         s.formatting,
		TextDocumentDocumentSymbol:     s.documentSymbols,
		TextDocumentCodeAction:         s.codeActions,
		TextDocumentSemanticTokensFull: s.semanticTokens,
	}
}

func (s *Server) initialize(_ *glsp.Context, _ *protocol.InitializeParams) (any, error) {
	yes := true
	caps := protocol.ServerCapabilities{
		TextDocumentSync: protocol.TextDocumentSyncOptions{
			OpenClose: &yes,
			Change:    ptr(protocol.TextDocumentSyncKindFull),
			Save:      true,
		},
		HoverProvider:              true,
		CompletionProvider:         &protocol.CompletionOptions{TriggerCharacters: []string{".", "\"", " "}},
		DefinitionProvider:         true,
		ReferencesProvider:         true,
		DocumentFormattingProvider: true,
		DocumentSymbolProvider:     true,
		CodeActionProvider:         true,
		SemanticTokensProvider: protocol.SemanticTokensOptions{
			Legend: protocol.SemanticTokensLegend{TokenTypes: tokenTypes, TokenModifiers: tokenModifiers},
			Full:   true,
		},
	}
	s.mu.Lock()
	enc := s.enc
	s.mu.Unlock()
	version := s.opts.Version
	return initializeResult{
		Capabilities: capabilities{ServerCapabilities: caps, PositionEncoding: string(enc)},
		ServerInfo:   &protocol.InitializeResultServerInfo{Name: "llmpipe", Version: &version},
	}, nil
}

func ptr[T any](v T) *T { return &v }

// stopChecks cancels pending debounced checks and waits for running ones, so
// no goroutine outlives Serve.
func (s *Server) stopChecks() {
	s.mu.Lock()
	s.closing = true
	for uri, t := range s.timers {
		if t.Stop() {
			s.checks.Done()
		}
		delete(s.timers, uri)
	}
	s.mu.Unlock()
	s.checks.Wait()
}

// doc returns the open document at uri, or an error the client sees.
func (s *Server) doc(uri protocol.DocumentUri) (*document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[uri]
	if !ok {
		return nil, fmt.Errorf("document %s is not open", uri)
	}
	return d, nil
}
