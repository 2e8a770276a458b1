package sim_test

import (
	"context"
	"fmt"
	"log"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"google.golang.org/genai"
)

// Start a simulator and call it with the real genai client: the reply
// conforms to the schema and takes its values from the prompt.
func ExampleStart() {
	ctx := context.Background()
	cfg := sim.DefaultConfig()
	cfg.Seed = 1
	srv, err := sim.Start(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := genai.NewClient(ctx, &genai.ClientConfig{
		APIKey:      "test",
		Backend:     genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL()},
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Models.GenerateContent(ctx, "gemini-2.5-flash",
		genai.Text("Extract: Maria Lopez, 34, lives in Porto."),
		&genai.GenerateContentConfig{
			ResponseMIMEType: "application/json",
			ResponseSchema: &genai.Schema{
				Type:     genai.TypeObject,
				Required: []string{"name", "age"},
				Properties: map[string]*genai.Schema{
					"name": {Type: genai.TypeString},
					"age":  {Type: genai.TypeInteger},
				},
			},
		})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Text())
	fmt.Println(srv.Stats().Successes[""])
	// Output:
	// {"age":34,"name":"Maria Lopez"}
	// 1
}
