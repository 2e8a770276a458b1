package sim

import (
	"net/http"
	"strings"
)

// serveBatchList handles GET batches: the jobs, newest first, paged.
func (s *Server) serveBatchList(x *exchange) {
	if x.r.Method != http.MethodGet {
		x.fail(errNotFound(x.r.URL.Path))
		return
	}
	x.e.Kind = "batch:list"
	b := s.batches
	b.mu.Lock()
	now := b.clock.Now()
	from, to, next := page(x.r, len(b.order), 50, 1000)
	out := []byte(`{"operations":[`)
	// Newest first: entry i of the listing is order[len-1-i].
	for i := from; i < to; i++ {
		j := b.order[len(b.order)-1-i]
		s.advance(j, now)
		if i > from {
			out = append(out, ',')
		}
		out = append(out, marshalOperation(j, false)...)
	}
	b.mu.Unlock()
	out = append(out, ']')
	if next != "" {
		out = append(out, `,"nextPageToken":`...)
		out = appendString(out, next)
	}
	x.writeJSON(http.StatusOK, append(out, '}'))
}

// serveBatch handles batches/{id}: GET, DELETE, POST :cancel and POST
// :delete (the Guide's curl spelling of delete).
func (s *Server) serveBatch(x *exchange, rest string) {
	id, verb, _ := strings.Cut(strings.TrimPrefix(rest, "batches/"), ":")
	x.e.Batch = "batches/" + id
	var op string
	switch {
	case verb == "" && x.r.Method == http.MethodGet:
		op = "get"
	case verb == "" && x.r.Method == http.MethodDelete, verb == "delete" && x.r.Method == http.MethodPost:
		op = "delete"
	case verb == "cancel" && x.r.Method == http.MethodPost:
		op = "cancel"
	default:
		x.fail(errNotFound(x.r.URL.Path))
		return
	}
	x.e.Kind = "batch:" + op
	b := s.batches
	b.mu.Lock()
	j, ok := b.byID[id]
	if !ok {
		b.mu.Unlock()
		x.fail(newAPIErr(404, "Batch batches/"+id+" not found.", "not_found"))
		return
	}
	now := b.clock.Now()
	s.advance(j, now)
	x.e.Model = j.model
	var out []byte
	switch op {
	case "get":
		out = marshalOperation(j, true)
	case "cancel":
		if !terminal(j.state) {
			s.end(j, batchCancelled, now)
		}
		out = []byte("{}")
	case "delete":
		if !terminal(j.state) {
			s.end(j, batchCancelled, now)
		}
		delete(b.byID, id)
		for i, o := range b.order {
			if o == j {
				b.order = append(b.order[:i], b.order[i+1:]...)
				break
			}
		}
		s.st.batch(func(c *BatchCounts) { c.Deleted++ })
		out = []byte("{}")
	}
	b.mu.Unlock()
	x.writeJSON(http.StatusOK, out)
}
