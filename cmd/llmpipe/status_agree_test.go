package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// statusRow is one step's line of `llmpipe status`.
type statusRow struct {
	done, failed, pending int
	spent                 string
}

// parseStatus reads the step rows and the total spent from status output.
func parseStatus(t *testing.T, out string) (map[string]statusRow, string) {
	t.Helper()
	rows := map[string]statusRow{}
	total := ""
	rowRe := regexp.MustCompile(`^(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+\d+\s+\d+\s+[\d,]+\s+\$(\d+\.\d+)$`)
	totalRe := regexp.MustCompile(`^spent \$(\d+\.\d+) `)
	for _, line := range strings.Split(out, "\n") {
		if m := rowRe.FindStringSubmatch(line); m != nil {
			r := statusRow{spent: m[5], pending: -1}
			r.done, _ = strconv.Atoi(m[2])
			r.failed, _ = strconv.Atoi(m[3])
			if n, err := strconv.Atoi(m[4]); err == nil {
				r.pending = n
			}
			rows[m[1]] = r
		}
		if m := totalRe.FindStringSubmatch(line); m != nil {
			total = m[1]
		}
	}
	if total == "" {
		t.Fatalf("no total in status output:\n%s", out)
	}
	return rows, total
}

type runSummary struct {
	Cost      float64 `json:"cost"`
	CacheCost float64 `json:"cache_cost"`
	Succeeded int     `json:"succeeded"`
	Failed    int     `json:"failed"`
	Skipped   int     `json:"skipped"`
}

// runAndStatus runs job with --sim, then status, and returns both views.
func runAndStatus(t *testing.T, job string, runArgs ...string) (runSummary, map[string]statusRow, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sumPath := filepath.Join(t.TempDir(), "sum.json")
	args := append([]string{"run", job, "--sim", "--quiet", "--summary", sumPath}, runArgs...)
	if code, _, stderr := runCLI(ctx, args...); code != exitOK && code != exitFailedItems {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatal(err)
	}
	var sum runSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(ctx, "status", job)
	if code != exitOK {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	rows, total := parseStatus(t, stdout)
	return sum, rows, total, stdout
}

func copyPipeline(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "..", "pipelines", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestIssue19StatusCountsCacheCosts: what shared-context caches cost
// (creation and storage) is in status's spent, as it is in the summary.
func TestIssue19StatusCountsCacheCosts(t *testing.T) {
	dir := copyPipeline(t, "handbook_qa.llmp", "handbook.md", "questions.txt")
	sum, rows, total, out := runAndStatus(t, filepath.Join(dir, "handbook_qa.llmp"))
	if sum.CacheCost == 0 {
		t.Fatalf("the run created no cache (cache_cost 0); the test needs one")
	}
	if want := fmt.Sprintf("%.4f", sum.Cost); total != want {
		t.Errorf("status spent $%s, summary cost $%s (cache cost $%.4f)\n%s", total, want, sum.CacheCost, out)
	}
	if r := rows["answer"]; r.done != sum.Succeeded || r.failed != sum.Failed || r.pending != 0 {
		t.Errorf("status row %+v, summary %+v\n%s", r, sum, out)
	}
}

// TestIssue19StatusFilteredAndMalformed: rows a source's where drops and
// items a step's where skips are not pending; rows that do not parse are
// failed; the counts add up to the summary's.
func TestIssue19StatusFilteredAndMalformed(t *testing.T) {
	dir := copyPipeline(t, "triage_tickets.llmp", "tickets.csv")
	// Two rows that do not parse (a ragged row: too many fields).
	f, err := os.OpenFile(filepath.Join(dir, "tickets.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "T-9001,one,two,three")
	fmt.Fprintln(f, "T-9002,four,five,six")
	f.Close()
	sum, rows, total, out := runAndStatus(t, filepath.Join(dir, "triage_tickets.llmp"))
	if sum.Skipped == 0 || sum.Failed < 2 {
		t.Fatalf("summary %+v: want skipped items and the two malformed rows failed", sum)
	}
	done, failed := 0, 0
	for _, step := range []string{"triage", "draft_reply"} {
		r, ok := rows[step]
		if !ok {
			t.Fatalf("no status row for %s\n%s", step, out)
		}
		if r.pending != 0 {
			t.Errorf("%s: %d pending after a complete run, want 0\n%s", step, r.pending, out)
		}
		done += r.done
		failed += r.failed
	}
	if done != sum.Succeeded || failed != sum.Failed {
		t.Errorf("status done %d failed %d, summary ok %d failed %d\n%s", done, failed, sum.Succeeded, sum.Failed, out)
	}
	if !strings.Contains(out, fmt.Sprintf("draft_reply %d", sum.Skipped)) {
		t.Errorf("status does not say draft_reply skipped %d items\n%s", sum.Skipped, out)
	}
	if want := fmt.Sprintf("%.4f", sum.Cost); total != want {
		t.Errorf("status spent $%s, summary $%s\n%s", total, want, out)
	}
}
