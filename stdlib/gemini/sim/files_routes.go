package sim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Files API: a two-step resumable upload (start, then chunks) on one
// path told apart by X-Goog-Upload-Command, and get, list, delete and
// download. Every upload reply sets X-Goog-Upload-Status, errors included:
// go-genai retries a reply without it and then reports a garbled error.

// baseURL is the server as the client reached it, for uri fields.
func baseURL(r *http.Request) string { return "http://" + r.Host + "/" }

// serveUpload handles POST …/upload/v1beta/files.
func (s *Server) serveUpload(x *exchange) {
	// Every reply carries a status, errors included (a failed body read
	// answers before any handler below could set it); replies that keep
	// the session open overwrite it with "active".
	x.w.Header().Set("X-Goog-Upload-Status", "final")
	if x.r.Method != http.MethodPost {
		s.uploadFail(x, errNotFound(x.r.URL.Path))
		return
	}
	cmds := map[string]bool{}
	for _, c := range strings.Split(x.r.Header.Get("X-Goog-Upload-Command"), ",") {
		cmds[strings.ToLower(strings.TrimSpace(c))] = true
	}
	switch {
	case cmds["start"]:
		s.uploadStart(x)
	case cmds["upload"] || cmds["finalize"] || cmds["query"] || cmds["cancel"]:
		s.uploadChunk(x, cmds)
	default:
		s.uploadFail(x, errBadRequest("X-Goog-Upload-Command must be start, upload, finalize, query or cancel"))
	}
}

func (s *Server) uploadFail(x *exchange, e *apiErr) {
	x.w.Header().Set("X-Goog-Upload-Status", "final")
	x.fail(e)
}

func (s *Server) uploadStart(x *exchange) {
	if !s.readBody(x) {
		return
	}
	var req struct {
		File struct {
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
			MimeType    string `json:"mimeType"`
		} `json:"file"`
	}
	if len(x.body) > 0 {
		v, err := decodeAny(x.body)
		if err == nil {
			var b []byte
			b, err = json.Marshal(camelKeys(v))
			if err == nil {
				err = json.Unmarshal(b, &req)
			}
		}
		if err != nil {
			s.uploadFail(x, errBadRequest("Invalid JSON payload received. "+err.Error()))
			return
		}
	}
	now := time.Now()
	f := &simFile{
		displayName: req.File.DisplayName,
		mimeType:    req.File.MimeType,
		source:      fileUploaded,
		created:     now,
		updated:     now,
	}
	if f.mimeType == "" {
		f.mimeType = x.r.Header.Get("X-Goog-Upload-Header-Content-Type")
	}
	if f.mimeType == "" {
		s.uploadFail(x, errBadRequest("The file's MIME type is missing: set file.mimeType or X-Goog-Upload-Header-Content-Type."))
		return
	}
	if req.File.Name != "" {
		f.id = fileID(req.File.Name)
		if !validFileID(f.id) {
			s.uploadFail(x, errBadRequest("Invalid file name "+strconv.Quote(req.File.Name)+": the id may hold lower-case letters, digits and dashes, at most 40 characters."))
			return
		}
		if _, ok := s.files.get(f.id); ok {
			e := newAPIErr(409, "File "+f.name()+" already exists.", "already_exists")
			e.Status = "ALREADY_EXISTS"
			s.uploadFail(x, e)
			return
		}
	} else {
		f.id = s.ids.next()
	}
	uploadID := s.ids.next() + s.ids.next()
	s.files.mu.Lock()
	s.files.uploads[uploadID] = f
	s.files.mu.Unlock()
	h := x.w.Header()
	u := baseURL(x.r) + "upload/v1beta/files?upload_id=" + uploadID + "&upload_protocol=resumable"
	h.Set("X-Goog-Upload-URL", u)
	h.Set("X-Goog-Upload-Control-URL", u)
	h.Set("X-Goog-Upload-Status", "active")
	h.Set("X-Goog-Upload-Chunk-Granularity", "262144")
	x.e.Kind = "upload:start"
	x.writeJSON(http.StatusOK, nil)
}

func (s *Server) uploadChunk(x *exchange, cmds map[string]bool) {
	id := x.r.URL.Query().Get("upload_id")
	s.files.mu.Lock()
	f, ok := s.files.uploads[id]
	s.files.mu.Unlock()
	if !ok {
		s.uploadFail(x, newAPIErr(404, "No upload session "+strconv.Quote(id)+".", "not_found"))
		return
	}
	h := x.w.Header()
	x.e.Kind = "upload:" + strings.Join(sortedKeys(cmds), ",")
	switch {
	case cmds["cancel"]:
		s.files.mu.Lock()
		delete(s.files.uploads, id)
		s.files.mu.Unlock()
		h.Set("X-Goog-Upload-Status", "cancelled")
		x.writeJSON(http.StatusOK, nil)
		return
	case cmds["query"]:
		h.Set("X-Goog-Upload-Status", "active")
		h.Set("X-Goog-Upload-Size-Received", strconv.Itoa(len(f.data)))
		x.writeJSON(http.StatusOK, nil)
		return
	}
	if !s.readBody(x) {
		return
	}
	// One session is written by one client in order; the lock guards the
	// map, and data is appended under it too so a duplicate chunk cannot
	// interleave.
	s.files.mu.Lock()
	off, err := strconv.Atoi(x.r.Header.Get("X-Goog-Upload-Offset"))
	if x.r.Header.Get("X-Goog-Upload-Offset") == "" {
		off, err = len(f.data), nil
	}
	switch {
	case err != nil || off != len(f.data):
		got := len(f.data)
		s.files.mu.Unlock()
		h.Set("X-Goog-Upload-Size-Received", strconv.Itoa(got))
		s.uploadFail(x, errBadRequest("X-Goog-Upload-Offset "+strconv.Quote(x.r.Header.Get("X-Goog-Upload-Offset"))+" does not match the "+strconv.Itoa(got)+" bytes received."))
		return
	case len(f.data)+len(x.body) > maxFileBytes:
		delete(s.files.uploads, id)
		s.files.mu.Unlock()
		s.uploadFail(x, errBadRequest("The file is larger than the 2 GB limit."))
		return
	}
	f.data = append(f.data, x.body...)
	if !cmds["finalize"] {
		n := len(f.data)
		s.files.mu.Unlock()
		h.Set("X-Goog-Upload-Status", "active")
		h.Set("X-Goog-Upload-Size-Received", strconv.Itoa(n))
		x.writeJSON(http.StatusOK, nil)
		return
	}
	delete(s.files.uploads, id)
	f.final, f.updated = true, time.Now()
	s.files.byID[f.id] = f
	s.files.mu.Unlock()
	s.st.files(func(fc *FileCounts) { fc.Uploaded++; fc.Live++ })
	h.Set("X-Goog-Upload-Status", "final")
	x.writeJSON(http.StatusOK, append(append([]byte(`{"file":`), marshalFile(f, baseURL(x.r))...), '}'))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// serveFile handles files/{id} and files/{id}:download.
func (s *Server) serveFile(x *exchange, rest string) {
	name, verb, _ := strings.Cut(rest, ":")
	id := fileID(name)
	if !validFileID(id) {
		x.fail(errBadRequest("Invalid file name " + strconv.Quote(name) + "."))
		return
	}
	switch {
	case verb == "download" && x.r.Method == http.MethodGet:
		s.serveDownload(x, id)
	case verb == "" && x.r.Method == http.MethodGet:
		f, ok := s.files.get(id)
		if !ok {
			x.fail(errFileNotFound(id))
			return
		}
		x.writeJSON(http.StatusOK, marshalFile(f, baseURL(x.r)))
	case verb == "" && x.r.Method == http.MethodDelete:
		if !s.files.remove(id) {
			x.fail(errFileNotFound(id))
			return
		}
		s.st.files(func(fc *FileCounts) { fc.Deleted++; fc.Live-- })
		x.writeJSON(http.StatusOK, []byte("{}"))
	default:
		x.fail(errNotFound(x.r.URL.Path))
	}
}

func errFileNotFound(id string) *apiErr {
	return newAPIErr(404, "File files/"+id+" not found.", "not_found")
}

// serveDownload sends a generated file's bytes. Uploaded files cannot be
// downloaded, as with the real Files API.
func (s *Server) serveDownload(x *exchange, id string) {
	f, ok := s.files.get(id)
	if !ok {
		x.fail(errFileNotFound(id))
		return
	}
	if f.source != fileGenerated {
		x.fail(errBadRequest("Only files generated by the service can be downloaded; files/" + id + " was uploaded."))
		return
	}
	h := x.w.Header()
	h.Set("Content-Type", f.mimeType)
	h.Set("Content-Length", strconv.Itoa(len(f.data)))
	x.w.WriteHeader(http.StatusOK)
	x.w.Write(f.data) //nolint:errcheck // the client may be gone
	x.e.Status = http.StatusOK
}

func (s *Server) serveFileList(x *exchange) {
	if x.r.Method != http.MethodGet {
		x.fail(errNotFound(x.r.URL.Path))
		return
	}
	all := s.files.list()
	from, to, next := page(x.r, len(all), 10, 100)
	base := baseURL(x.r)
	out := struct {
		Files         []map[string]any `json:"files,omitempty"`
		NextPageToken string           `json:"nextPageToken,omitempty"`
	}{NextPageToken: next}
	for _, f := range all[from:to] {
		out.Files = append(out.Files, fileJSON(f, base))
	}
	b, _ := json.Marshal(out)
	x.writeJSON(http.StatusOK, b)
}

// page reads pageSize and pageToken (an offset) and returns the slice
// bounds and the next token ("" on the last page).
func page(r *http.Request, n, def, max int) (from, to int, next string) {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("pageSize"))
	if size <= 0 {
		size = def
	}
	size = min(size, max)
	from, _ = strconv.Atoi(q.Get("pageToken"))
	if from < 0 || from > n {
		from = n
	}
	to = min(from+size, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next
}
