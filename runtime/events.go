package runtime

import (
	"sync"
	"time"
)

// EventKind names an event in the run's event stream.
type EventKind string

const (
	EventRunStarted      EventKind = "run_started"
	EventItemStarted     EventKind = "item_started"
	EventAttemptFailed   EventKind = "attempt_failed"
	EventEscalated       EventKind = "escalated"
	EventCooldown        EventKind = "cooldown_started"
	EventItemSucceeded   EventKind = "item_succeeded"
	EventItemFailed      EventKind = "item_failed"
	EventItemSkipped     EventKind = "item_skipped" // a step's where was false
	EventItemResumed     EventKind = "item_resumed" // already done in the store
	EventCacheCreated    EventKind = "cache_created"
	EventCacheRenewed    EventKind = "cache_renewed"
	EventCacheDeleted    EventKind = "cache_deleted"
	EventCacheFallback   EventKind = "cache_fallback" // content too small: sent inline
	EventBudgetExhausted EventKind = "budget_exhausted"
	EventItemStopped     EventKind = "item_stopped" // the budget cannot afford its next call: left for the next run
	EventReloadApplied   EventKind = "reload_applied"
	EventReloadRejected  EventKind = "reload_rejected"
	EventRunFinished     EventKind = "run_finished"
	// EventCallFinished follows every call to a provider (not answers from
	// the response cache): Model, Class ("ok" or the error's class), Usage
	// and Cost when it returned a reply, Delay its latency. Whether the
	// reply then passes parse and checks is told by attempt_failed or the
	// item's terminal event.
	EventCallFinished EventKind = "call_finished"
	// EventEndpointDown: calls in a row could not reach the endpoint, so
	// no call goes out but a probe until it answers (Delay: how long the
	// run waits for it, --max-outage); EventEndpointUp: it answers again.
	EventEndpointDown    EventKind = "endpoint_down"
	EventEndpointUp      EventKind = "endpoint_up"
	EventBatchJobCreated EventKind = "batch_job_created" // or adopted after a crash
	EventBatchJobEnded   EventKind = "batch_job_ended"
	// EventWorkersResized: workers = auto changed the pool's size (From
	// and To, and Workers the new size; Message says why).
	EventWorkersResized EventKind = "workers_resized"
)

// Event is one entry of the event stream. Which fields are set depends on
// Kind; empty fields are omitted from the JSONL form.
type Event struct {
	Kind    EventKind     `json:"event"`
	Time    time.Time     `json:"time"`
	Step    string        `json:"step,omitempty"`
	Item    string        `json:"item,omitempty"`
	Model   string        `json:"model,omitempty"`
	From    string        `json:"from,omitempty"` // escalated: from model
	To      string        `json:"to,omitempty"`   // escalated: to model
	Attempt int           `json:"attempt,omitempty"`
	Class   string        `json:"class,omitempty"`
	Message string        `json:"message,omitempty"`
	Delay   time.Duration `json:"delay_ns,omitempty"`
	Cost    Money         `json:"cost,omitempty"`
	// Reserved is what a call held from the budget before it was made
	// (call_finished): its input estimate and output cap at the model's
	// prices. A call never costs more.
	Reserved Money  `json:"reserved,omitempty"`
	Usage    *Usage `json:"usage,omitempty"`
	Cache    string `json:"cache,omitempty"`
	Plan     int    `json:"plan,omitempty"`
	Workers  int    `json:"workers,omitempty"` // workers_resized: the new size
}

// Observer receives events. OnEvent is called concurrently from many
// goroutines and must not block for long: it runs on the item's path.
type Observer interface {
	OnEvent(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// OnEvent calls f(e).
func (f ObserverFunc) OnEvent(e Event) { f(e) }

// EventLog collects events in memory; useful in tests and small embeddings.
type EventLog struct {
	mu     sync.Mutex
	events []Event
}

// OnEvent appends e.
func (l *EventLog) OnEvent(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// Events returns a copy of what was collected.
func (l *EventLog) Events() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}
