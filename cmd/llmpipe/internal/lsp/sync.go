package lsp

import (
	"time"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
)

func (s *Server) didOpen(ctx *glsp.Context, p *protocol.DidOpenTextDocumentParams) error {
	d := newDocument(p.TextDocument.URI, p.TextDocument.Text, p.TextDocument.Version)
	s.mu.Lock()
	s.docs[d.uri] = d
	s.mu.Unlock()
	s.publish(ctx.Notify, d) // on open at once: the user is waiting for the first look
	return nil
}

func (s *Server) didChange(ctx *glsp.Context, p *protocol.DidChangeTextDocumentParams) error {
	d, err := s.doc(p.TextDocument.URI)
	if err != nil {
		return err
	}
	for _, c := range p.ContentChanges {
		switch c := c.(type) {
		case protocol.TextDocumentContentChangeEventWhole:
			d.setText(c.Text, p.TextDocument.Version)
		case protocol.TextDocumentContentChangeEvent:
			// Sync is full, so a ranged change is a client bug; apply it anyway.
			d.mu.Lock()
			l := newLines(d.text, s.encoding())
			lo, hi := l.offset(c.Range.Start), l.offset(c.Range.End)
			text := d.text[:lo] + c.Text + d.text[hi:]
			d.mu.Unlock()
			d.setText(text, p.TextDocument.Version)
		}
	}
	s.schedule(ctx.Notify, d)
	return nil
}

func (s *Server) didClose(ctx *glsp.Context, p *protocol.DidCloseTextDocumentParams) error {
	s.mu.Lock()
	delete(s.docs, p.TextDocument.URI)
	if t, ok := s.timers[p.TextDocument.URI]; ok && t.Stop() {
		s.checks.Done()
	}
	delete(s.timers, p.TextDocument.URI)
	s.mu.Unlock()
	// Clear what the editor shows for a file no longer open.
	ctx.Notify(protocol.ServerTextDocumentPublishDiagnostics, protocol.PublishDiagnosticsParams{
		URI: p.TextDocument.URI, Diagnostics: []protocol.Diagnostic{},
	})
	return nil
}

func (s *Server) encoding() encoding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enc
}

// schedule checks d after the debounce, replacing a check already waiting.
func (s *Server) schedule(notify glsp.NotifyFunc, d *document) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	if t, ok := s.timers[d.uri]; ok && t.Stop() {
		s.checks.Done()
	}
	s.checks.Add(1)
	s.timers[d.uri] = time.AfterFunc(s.opts.Debounce, func() {
		defer s.checks.Done()
		s.mu.Lock()
		delete(s.timers, d.uri)
		s.mu.Unlock()
		s.publish(notify, d)
	})
}

// publish sends d's diagnostics.
func (s *Server) publish(notify glsp.NotifyFunc, d *document) {
	a := d.current(s.encoding())
	d.mu.Lock()
	version := d.version
	d.mu.Unlock()
	v := protocol.UInteger(version)
	notify(protocol.ServerTextDocumentPublishDiagnostics, protocol.PublishDiagnosticsParams{
		URI:         d.uri,
		Version:     &v,
		Diagnostics: toProtocol(a, d.uri),
	})
}

// toProtocol converts the checker's diagnostics; the help line (where the
// did-you-mean text lives) follows the message as compilers print it.
func toProtocol(a *analysis, uri protocol.DocumentUri) []protocol.Diagnostic {
	out := []protocol.Diagnostic{}
	for _, cd := range a.diags {
		sev := protocol.DiagnosticSeverityError
		if cd.Severity == lang.SeverityWarning {
			sev = protocol.DiagnosticSeverityWarning
		}
		msg := cd.Message
		if cd.Help != "" {
			msg += "\nhelp: " + cd.Help
		}
		src := "llmpipe"
		pd := protocol.Diagnostic{Range: a.lines.rangeOf(cd.Range), Severity: &sev, Source: &src, Message: msg}
		if fix, ok := interp.Suggestion(cd); ok {
			pd.Data = map[string]string{"replace": fix}
		}
		for _, n := range cd.Notes {
			pd.RelatedInformation = append(pd.RelatedInformation, protocol.DiagnosticRelatedInformation{
				Location: protocol.Location{URI: uri, Range: a.lines.rangeOf(n.Range)},
				Message:  n.Message,
			})
		}
		out = append(out, pd)
	}
	return out
}
