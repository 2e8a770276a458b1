package sim_test

import (
	"context"
	"fmt"
	"log"
	"time"

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

// Run a Batch Mode job with the real genai client: create it with inline
// requests, poll it until it ends, and read each response by its key.
func ExampleStart_batch() {
	ctx := context.Background()
	cfg := sim.DefaultConfig()
	cfg.BatchLatency = 50 * time.Millisecond
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
	schema := &genai.GenerateContentConfig{
		ResponseMIMEType: "application/json",
		ResponseSchema: &genai.Schema{Type: genai.TypeObject, Required: []string{"name"},
			Properties: map[string]*genai.Schema{"name": {Type: genai.TypeString}}},
	}
	job, err := client.Batches.Create(ctx, "gemini-2.5-flash", &genai.BatchJobSource{InlinedRequests: []*genai.InlinedRequest{
		{Contents: genai.Text("Extract: Maria Lopez, 34."), Metadata: map[string]string{"key": "m1"}, Config: schema},
		{Contents: genai.Text("Extract: Bo Chen, 51."), Metadata: map[string]string{"key": "b2"}, Config: schema},
	}}, &genai.CreateBatchJobConfig{DisplayName: "example"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(job.State)
	for job.State == genai.JobStatePending || job.State == genai.JobStateRunning {
		time.Sleep(10 * time.Millisecond)
		if job, err = client.Batches.Get(ctx, job.Name, nil); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(job.State)
	for _, r := range job.Dest.InlinedResponses {
		fmt.Println(r.Metadata["key"], r.Response.Text())
	}
	// Output:
	// JOB_STATE_PENDING
	// JOB_STATE_SUCCEEDED
	// m1 {"name":"Maria Lopez"}
	// b2 {"name":"Bo Chen"}
}
