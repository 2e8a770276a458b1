package gemini

import (
	"context"
	"errors"

	"github.com/llmpipe/llmpipe/runtime"
)

// itemHeader carries the item id so a simulator (or a proxy log) can tie a
// request to the item that caused it.
const itemHeader = "x-llmpipe-item"

// Generate sends one generateContent request. Errors are *runtime.Error,
// except when ctx itself ends: then the error wraps ctx.Err().
//
// A request naming CachedContent should leave System empty: the cache
// already holds the system instruction, and the API refuses a request that
// sets both (400, fatal).
//
// The request goes out through the provider's own POST rather than
// genai's Models.GenerateContent; see the package doc for why.
func (p *Provider) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	body, err := encodeRequest(req, &p.schemas)
	if err != nil {
		return nil, err
	}

	a := p.deadlines.attempt(ctx, req.Timeout)
	defer a.done()
	attemptCtx := a.ctx
	raw, err := p.direct.generateContent(attemptCtx, req.Timeout, req.Item, req.Model, body)
	if err != nil {
		return nil, classify(ctx, attemptCtx, req.Timeout, "generating with "+req.Model, err)
	}
	defer putBuf(raw)
	resp, err := decodeResponse(raw.Bytes())
	if err != nil && isDecodeError(err) {
		return nil, classify(ctx, attemptCtx, req.Timeout, "generating with "+req.Model, err)
	}
	return resp, err
}

// isDecodeError is errors.As for *decodeError, apart because its target
// escapes: declared in Generate, it cost an allocation every call.
func isDecodeError(err error) bool {
	var de *decodeError
	return errors.As(err, &de)
}
