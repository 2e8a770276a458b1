package store

import (
	"context"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// A job is recorded with its items before the create call, named right
// after, survives a reopen while live, and leaves the live list once ended.
func TestBatchJobLifecycle(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	runID, err := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "p.llmp", Started: at(0)})
	if err != nil {
		t.Fatal(err)
	}
	j := &runtime.BatchJob{RunID: runID, Step: "extract", Model: "gemini-2.5-flash", DisplayName: "llmpipe-p-1-1",
		Tokens: 120, Created: at(1), Items: []runtime.BatchItem{{Item: "a", Key: "a", RequestKey: "ka"}, {Item: "b", Key: "b", RequestKey: "kb"}}}
	if err := s.AddBatchJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if j.ID == 0 {
		t.Fatal("AddBatchJob set no id")
	}
	// A second job under the same display name is refused: adoption by
	// display name needs them unique.
	if err := s.AddBatchJob(ctx, &runtime.BatchJob{Step: "extract", Model: "m", DisplayName: j.DisplayName}); err == nil {
		t.Fatal("duplicate display name accepted")
	}
	// Crash before the name is recorded: the job is live with no name.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	live, err := s.LiveBatchJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].Name != "" || live[0].DisplayName != j.DisplayName || len(live[0].Items) != 2 ||
		live[0].Items[1] != (runtime.BatchItem{Item: "b", Key: "b", RequestKey: "kb"}) || live[0].Tokens != 120 || !live[0].Created.Equal(at(1)) {
		t.Fatalf("live after reopen = %+v", live)
	}
	if err := s.SetBatchJobName(ctx, j.ID, "batches/x1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBatchJobState(ctx, j.ID, runtime.BatchRunning, 0, 0); err != nil {
		t.Fatal(err)
	}
	live, _ = s.LiveBatchJobs(ctx)
	if len(live) != 1 || live[0].Name != "batches/x1" || live[0].State != runtime.BatchRunning {
		t.Fatalf("live = %+v", live[0])
	}
	if err := s.SetBatchJobState(ctx, j.ID, runtime.BatchSucceeded, 2, 0); err != nil {
		t.Fatal(err)
	}
	live, _ = s.LiveBatchJobs(ctx)
	if len(live) != 0 {
		t.Fatalf("ended job still live: %+v", live)
	}
	all, err := s.BatchJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ItemCount != 2 || all[0].Done != 2 || all[0].State != runtime.BatchSucceeded || all[0].Ended.IsZero() {
		t.Fatalf("jobs = %+v", all)
	}
	// The attempt journal names the job that answered.
	if err := s.LogAttempt(ctx, &runtime.Attempt{RunID: runID, Step: "extract", Item: "a", Attempt: 1, Model: "m", Status: "ok", Job: "batches/x1"}); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Attempts) != 1 || h.Attempts[0].Job != "batches/x1" {
		t.Fatalf("history = %+v", h.Attempts)
	}
}
