package sim

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genai"
)

// TestUploadChunks: go-genai sends 8 MiB chunks and, for a size that is a
// multiple of that, a last 0-byte finalize; an empty file is one
// 0-byte finalize.
func TestUploadChunks(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	for _, size := range []int{0, 8 << 20, 8<<20 + 5} {
		data := bytes.Repeat([]byte{'x'}, size)
		f, err := c.Files.Upload(testCtx(t), bytes.NewReader(data), &genai.UploadFileConfig{MIMEType: "text/plain", Name: fmt.Sprintf("size-%d", size)})
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if f.Name != fmt.Sprintf("files/size-%d", size) || *f.SizeBytes != int64(size) {
			t.Errorf("%d bytes: %+v", size, f)
		}
		sf, _ := s.files.get(f.Name)
		if !bytes.Equal(sf.data, data) {
			t.Errorf("%d bytes: stored %d bytes", size, len(sf.data))
		}
	}
	// A name in use is refused.
	_, err := c.Files.Upload(testCtx(t), strings.NewReader("x"), &genai.UploadFileConfig{MIMEType: "text/plain", Name: "size-0"})
	// go-genai flattens the start call's error into text.
	if err == nil || !strings.Contains(err.Error(), "Error 409") || !strings.Contains(err.Error(), "ALREADY_EXISTS") {
		t.Errorf("duplicate name: %v", err)
	}
}

// TestFilesList pages through the stored files, newest first.
func TestFilesList(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	ctx := testCtx(t)
	for i := range 3 {
		if _, err := c.Files.Upload(ctx, strings.NewReader("x"), &genai.UploadFileConfig{MIMEType: "text/plain", Name: fmt.Sprintf("f%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := c.Files.List(ctx, &genai.ListFilesConfig{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		for _, f := range p.Items {
			got = append(got, f.Name)
		}
		if p, err = p.Next(ctx); err == genai.ErrPageDone {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, ",") != "files/f2,files/f1,files/f0" {
		t.Errorf("listed %v", got)
	}
}
