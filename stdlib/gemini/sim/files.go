package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"
)

// File sources, as the Files API reports them.
const (
	fileUploaded  = "UPLOADED"
	fileGenerated = "GENERATED"
)

// fileLifetime is how long the Files API keeps a file (48 h, not scaled:
// nothing in a simulated run lives that long, and nothing expires).
const fileLifetime = 48 * time.Hour

// maxFileBytes is the Files API's per-file limit (2 GB).
const maxFileBytes = 2 << 30

// simFile is one file of the Files API, held in memory. An upload in
// progress has final false and is reachable only by its upload id.
type simFile struct {
	id                    string // without "files/"
	displayName, mimeType string
	source                string
	data                  []byte
	created, updated      time.Time
	final                 bool
}

func (f *simFile) name() string { return "files/" + f.id }

// files is the Files API's store: finished files by id, uploads in
// progress by upload id.
type files struct {
	mu      sync.Mutex
	byID    map[string]*simFile
	uploads map[string]*simFile
}

func newFiles() *files {
	return &files{byID: map[string]*simFile{}, uploads: map[string]*simFile{}}
}

// get returns a finished file by "files/ID" or "ID".
func (fs *files) get(name string) (*simFile, bool) {
	id := fileID(name)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.byID[id]
	return f, ok
}

// put stores a finished file (a batch's results).
func (fs *files) put(f *simFile) {
	fs.mu.Lock()
	fs.byID[f.id] = f
	fs.mu.Unlock()
}

func (fs *files) remove(name string) bool {
	id := fileID(name)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, ok := fs.byID[id]; !ok {
		return false
	}
	delete(fs.byID, id)
	return true
}

// list returns the finished files, newest first.
func (fs *files) list() []*simFile {
	fs.mu.Lock()
	out := make([]*simFile, 0, len(fs.byID))
	for _, f := range fs.byID {
		out = append(out, f)
	}
	fs.mu.Unlock()
	slices.SortFunc(out, func(a, b *simFile) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return compareStrings(b.id, a.id)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func fileID(name string) string {
	if len(name) > len("files/") && name[:len("files/")] == "files/" {
		return name[len("files/"):]
	}
	return name
}

// validFileID is the Files API's rule: lower-case letters, digits and
// dashes, at most 40 characters.
func validFileID(id string) bool {
	if id == "" || len(id) > 40 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// fileJSON is a File resource. base is the server's URL as the client
// reached it ("http://host/"), for uri and downloadUri.
func fileJSON(f *simFile, base string) map[string]any {
	sum := sha256.Sum256(f.data)
	m := map[string]any{
		"name":           f.name(),
		"mimeType":       f.mimeType,
		"sizeBytes":      strconv.Itoa(len(f.data)),
		"createTime":     protoTime(f.created),
		"updateTime":     protoTime(f.updated),
		"expirationTime": protoTime(f.created.Add(fileLifetime)),
		"sha256Hash":     base64.StdEncoding.EncodeToString(sum[:]),
		"uri":            base + "v1beta/" + f.name(),
		"state":          "ACTIVE",
		"source":         f.source,
	}
	if f.displayName != "" {
		m["displayName"] = f.displayName
	}
	if f.source == fileGenerated {
		m["downloadUri"] = base + "download/v1beta/" + f.name() + ":download?alt=media"
	}
	return m
}

func marshalFile(f *simFile, base string) []byte {
	b, _ := json.Marshal(fileJSON(f, base))
	return b
}

// protoTime formats t as google.protobuf.Timestamp JSON.
func protoTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
