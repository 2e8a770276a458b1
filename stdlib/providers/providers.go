// Package providers builds the one runtime.Provider a run calls: each model
// is served by the provider its model block names (the Gemini API, Gemini on
// Vertex AI, or any OpenAI-compatible server), so a ladder may climb from a
// free local model to Gemini Pro. The runtime sees one provider and never
// knows which answered; features only Gemini has (explicit caches) go to the
// Gemini provider, and the checker has already refused them elsewhere.
package providers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini"
	"github.com/llmpipe/llmpipe/stdlib/openai"
)

// Options says where the providers are.
type Options struct {
	// GeminiAPIKey and GeminiBaseURL are for the Gemini API; empty means
	// from the environment, as gemini.New reads it.
	GeminiAPIKey, GeminiBaseURL string
	// SimURL, when set, points every provider at the simulator there:
	// Gemini and Vertex at its root, OpenAI-compatible models at /v1.
	SimURL string
	// HTTPClient for every provider; nil: each makes its own.
	HTTPClient *http.Client
	// BatchInlineLimit is gemini.Options.BatchInlineLimit.
	BatchInlineLimit int
}

// New returns the provider for prog's models. With one provider in use it
// returns that provider itself, so nothing is added to a plain Gemini run.
func New(ctx context.Context, prog *interp.Program, opts Options) (runtime.Provider, error) {
	r := &router{models: map[string]runtime.Provider{}}
	owner := map[string]string{} // model id → the provider key that serves it
	var gem runtime.Provider
	geminiProvider := func() (runtime.Provider, error) {
		if gem != nil {
			return gem, nil
		}
		o := gemini.Options{APIKey: opts.GeminiAPIKey, BaseURL: opts.GeminiBaseURL, HTTPClient: opts.HTTPClient, BatchInlineLimit: opts.BatchInlineLimit}
		if opts.SimURL != "" {
			o.APIKey, o.BaseURL = "simulator", opts.SimURL
		}
		p, err := gemini.New(ctx, o)
		if err != nil {
			return nil, err
		}
		gem = p
		return p, nil
	}
	cache := map[string]runtime.Provider{} // one provider per distinct endpoint
	for _, m := range prog.Models {
		key, build := providerFor(ctx, m, prog.Config, opts, geminiProvider)
		if prev, ok := owner[m.ID]; ok && prev != key {
			return nil, fmt.Errorf("model id %q is served by two providers (%s and %s): give the models distinct ids", m.ID, prev, key)
		}
		owner[m.ID] = key
		p, ok := cache[key]
		if !ok {
			var err error
			if p, err = build(); err != nil {
				if key == "gemini" {
					return nil, err // the one line that says how to get a key
				}
				return nil, fmt.Errorf("model %q: %w", m.Name, err)
			}
			cache[key] = p
		}
		r.models[m.ID] = p
	}
	if len(cache) == 1 {
		for _, p := range cache {
			return p, nil
		}
	}
	if gem == nil {
		return r, nil
	}
	cr := &cachingRouter{router: r, caches: gem.(runtime.CacheProvider)}
	if bp, ok := gem.(runtime.BatchProvider); ok {
		// Batch jobs are the Gemini API's; the runtime checks that a
		// batched step starts on a Gemini API model.
		return &batchRouter{cachingRouter: cr, BatchProvider: bp}, nil
	}
	return cr, nil
}

// batchRouter is a cachingRouter whose Gemini provider also runs batch jobs.
type batchRouter struct {
	*cachingRouter
	runtime.BatchProvider
}

// providerFor names the endpoint serving m (models with equal keys share a
// provider and its connection pool) and how to build its provider.
func providerFor(ctx context.Context, m *interp.Model, cfg interp.Config, opts Options, geminiProvider func() (runtime.Provider, error)) (string, func() (runtime.Provider, error)) {
	switch m.Provider {
	case interp.ProviderOpenAI:
		base := m.BaseURL
		if opts.SimURL != "" {
			base = strings.TrimSuffix(opts.SimURL, "/") + "/v1"
		}
		key := "openai " + base + " " + m.APIKeyEnv + fmt.Sprintf(" schema=%v", m.JSONSchema)
		return key, func() (runtime.Provider, error) {
			apiKey := openai.KeyFromEnv(m.APIKeyEnv)
			if opts.SimURL != "" {
				apiKey = "simulator"
			}
			return openai.New(openai.Options{BaseURL: base, APIKey: apiKey, JSONSchema: m.JSONSchema, HTTPClient: opts.HTTPClient}), nil
		}
	case interp.ProviderVertex:
		project, location := m.Project, m.Location
		if project == "" {
			project = cfg.Project
		}
		if location == "" {
			location = cfg.Location
		}
		base := m.BaseURL
		if opts.SimURL != "" {
			base = opts.SimURL
		}
		key := "vertex " + project + " " + location + " " + base
		return key, func() (runtime.Provider, error) {
			o := gemini.Options{Vertex: true, Project: project, Location: location, BaseURL: base, HTTPClient: opts.HTTPClient}
			if opts.SimURL != "" {
				o.VertexToken = "simulator"
				if o.Project == "" {
					o.Project = "llmpipe-sim"
				}
			}
			return gemini.New(ctx, o)
		}
	}
	if m.BaseURL != "" && opts.SimURL == "" {
		key := "gemini " + m.BaseURL
		return key, func() (runtime.Provider, error) {
			return gemini.New(ctx, gemini.Options{APIKey: opts.GeminiAPIKey, BaseURL: m.BaseURL, HTTPClient: opts.HTTPClient})
		}
	}
	return "gemini", geminiProvider
}

// router sends each call to the provider of its model.
type router struct {
	models map[string]runtime.Provider
}

func (r *router) Generate(ctx context.Context, req *runtime.Request) (*runtime.Response, error) {
	p, ok := r.models[req.Model]
	if !ok {
		return nil, &runtime.Error{Class: runtime.ClassFatal, Message: fmt.Sprintf("no provider serves model %q", req.Model)}
	}
	return p.Generate(ctx, req)
}

// cachingRouter is a router whose Gemini provider also manages caches.
type cachingRouter struct {
	*router
	caches runtime.CacheProvider
}

var _ runtime.CacheProvider = (*cachingRouter)(nil)

func (r *cachingRouter) CreateCache(ctx context.Context, model, displayName, system string, ttl time.Duration) (string, int, error) {
	return r.caches.CreateCache(ctx, model, displayName, system, ttl)
}

func (r *cachingRouter) UpdateCacheTTL(ctx context.Context, name string, ttl time.Duration) error {
	return r.caches.UpdateCacheTTL(ctx, name, ttl)
}

func (r *cachingRouter) DeleteCache(ctx context.Context, name string) error {
	return r.caches.DeleteCache(ctx, name)
}
