package gemini

import (
	"context"

	"cloud.google.com/go/auth"
	"errors"
	"fmt"
	"os"

	"google.golang.org/genai"
)

// ErrNoVertexProject is returned by New for Vertex without a project.
var ErrNoVertexProject = errors.New("no Google Cloud project for Vertex AI: set project in config (or the model block), or GOOGLE_CLOUD_PROJECT")

// newVertex builds a provider for Gemini on Vertex AI. genai finds the
// Application Default Credentials and builds an HTTP client that attaches
// their tokens; the direct generateContent path uses that same client, so
// both paths are authenticated the same way.
func newVertex(ctx context.Context, opts Options) (*Provider, error) {
	project, location := opts.Project, opts.Location
	if project == "" {
		project = os.Getenv("GOOGLE_CLOUD_PROJECT")
	}
	if location == "" {
		location = os.Getenv("GOOGLE_CLOUD_LOCATION")
	}
	if location == "" {
		location = "us-central1"
	}
	if project == "" {
		return nil, ErrNoVertexProject
	}
	base := opts.BaseURL
	if base == "" {
		base = os.Getenv("GOOGLE_VERTEX_BASE_URL")
	}
	var creds *auth.Credentials
	if opts.VertexToken != "" {
		creds = auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: staticToken(opts.VertexToken)})
	}
	client, err := genai.NewClient(ctx, &genai.ClientConfig{
		Credentials: creds,
		Backend:     genai.BackendVertexAI,
		// Explicit even with a custom endpoint: genai drops project and
		// location for a base URL given without them.
		Project:  project,
		Location: location,
		// HTTPClient stays nil so that genai authenticates with ADC; a
		// given client would be used bare.
		HTTPClient:  opts.HTTPClient,
		HTTPOptions: genai.HTTPOptions{BaseURL: base},
	})
	if err != nil {
		return nil, fmt.Errorf("vertex: creating client (Application Default Credentials: gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS): %w", err)
	}
	cc := client.ClientConfig()
	ep, err := newEndpoint(cc)
	if err != nil {
		return nil, fmt.Errorf("vertex: %w", err)
	}
	ep.vertexPrefix = fmt.Sprintf("projects/%s/locations/%s/publishers/google/", cc.Project, cc.Location)
	ep.key = nil
	return &Provider{client: client, direct: ep, batchInline: opts.BatchInlineLimit, vertex: true}, nil
}

// staticToken is a token provider that always gives one token.
type staticToken string

func (t staticToken) Token(context.Context) (*auth.Token, error) {
	return &auth.Token{Value: string(t), Type: "Bearer"}, nil
}
