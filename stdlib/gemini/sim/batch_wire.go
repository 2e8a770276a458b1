package sim

import (
	"encoding/json"
	"strconv"
)

// The Operation a batch call answers with, shaped as the real service
// sends it: go-genai reads only metadata, the Guide's curl reads response,
// so both are filled; done appears only in a terminal state; batchStats
// counts are int64 strings.

const (
	batchType       = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
	batchOutputType = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"
)

type operation struct {
	Name     string       `json:"name"`
	Metadata batchMeta    `json:"metadata"`
	Done     bool         `json:"done,omitempty"`
	Response *batchOutput `json:"response,omitempty"`
	Error    *opError     `json:"error,omitempty"`
}

type batchMeta struct {
	Type        string         `json:"@type"`
	Model       string         `json:"model"`
	DisplayName string         `json:"displayName,omitempty"`
	InputConfig map[string]any `json:"inputConfig,omitempty"`
	Output      *batchOutput   `json:"output,omitempty"`
	CreateTime  string         `json:"createTime"`
	UpdateTime  string         `json:"updateTime"`
	EndTime     string         `json:"endTime,omitempty"`
	State       string         `json:"state"`
	Name        string         `json:"name"`
	BatchStats  batchStats     `json:"batchStats"`
}

type batchOutput struct {
	Type             string         `json:"@type,omitempty"`
	ResponsesFile    string         `json:"responsesFile,omitempty"`
	InlinedResponses *inlinedOutput `json:"inlinedResponses,omitempty"`
}

type inlinedOutput struct {
	InlinedResponses []json.RawMessage `json:"inlinedResponses"`
}

type batchStats struct {
	RequestCount           string `json:"requestCount"`
	SuccessfulRequestCount string `json:"successfulRequestCount,omitempty"`
	FailedRequestCount     string `json:"failedRequestCount,omitempty"`
	PendingRequestCount    string `json:"pendingRequestCount,omitempty"`
}

type opError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// count is an int64 string, "" for 0 (proto3 JSON leaves zeros out).
func count(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// marshalOperation encodes j; list entries (full false) leave inline
// results out (no output, no response), as the real list does. The caller holds batches.mu.
func marshalOperation(j *batchJob, full bool) []byte {
	op := operation{Name: j.name(), Metadata: batchMeta{
		Type:        batchType,
		Model:       "models/" + j.model,
		DisplayName: j.displayName,
		CreateTime:  protoTime(j.created),
		UpdateTime:  protoTime(j.updated),
		State:       j.state,
		Name:        j.name(),
		BatchStats:  batchStats{RequestCount: strconv.Itoa(j.count)},
	}}
	m := &op.Metadata
	if j.inputFile != "" {
		m.InputConfig = map[string]any{"fileName": j.inputFile}
	}
	if !terminal(j.state) {
		m.BatchStats.PendingRequestCount = count(j.count)
	} else {
		op.Done = true
		m.EndTime = protoTime(j.updated)
		m.BatchStats.SuccessfulRequestCount = count(j.ok)
		m.BatchStats.FailedRequestCount = count(j.failed)
	}
	switch {
	case j.state == batchSucceeded && (full || j.inputFile != ""):
		out := batchOutput{ResponsesFile: j.resultsFile}
		if j.inputFile == "" {
			out.InlinedResponses = &inlinedOutput{InlinedResponses: j.inline}
		}
		m.Output = &out
		resp := out
		resp.Type = batchOutputType
		op.Response = &resp
	case j.errCode != 0:
		op.Error = &opError{Code: j.errCode, Message: j.errMsg}
	}
	b, err := json.Marshal(op)
	if err != nil { // only plain data and our own JSON go in
		panic(err)
	}
	return b
}
