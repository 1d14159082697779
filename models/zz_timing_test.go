package models_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"margin/models"
)

func TestZZTiming(t *testing.T) {
	dir := os.Getenv("ZZDIR")
	for _, fz := range []string{"FuzzSplitMarkdown", "FuzzSplitText", "FuzzCleanCommentBody"} {
		files, _ := filepath.Glob(filepath.Join(dir, fz, "*"))
		var worst time.Duration
		var worstName string
		for _, f := range files {
			b, _ := os.ReadFile(f)
			lines := strings.SplitN(string(b), "\n", 3)
			s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lines[1]), "string("), ")")
			in, err := strconv.Unquote(s)
			if err != nil {
				continue
			}
			start := time.Now()
			for range 20 {
				models.SplitMarkdown(in)
				models.SplitText(in)
				models.RenderMarkdown(models.CleanCommentBody(in))
			}
			if d := time.Since(start); d > worst {
				worst, worstName = d, f
			}
		}
		t.Logf("%s: %d files, worst %v (%s)", fz, len(files), worst/20, worstName)
	}
}

func TestZZBig(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 5<<20; i++ {
		b.WriteString("## Heading " + strconv.Itoa(i) + "\n\nSome *text* with a [link](https://x.org) and more words here.\n\n- item\n  - nested\n\n> quote\n\n")
	}
	start := time.Now()
	ps := models.SplitMarkdown(b.String())
	t.Logf("SplitMarkdown 5MiB: %d paragraphs in %v", len(ps), time.Since(start))
	start = time.Now()
	ps = models.SplitText(b.String())
	t.Logf("SplitText 5MiB: %d paragraphs in %v", len(ps), time.Since(start))
	start = time.Now()
	out := models.CleanCommentBody("<p>" + strings.Repeat("<b>x</b> <i>y</i><br>", 50000) + "</p>")
	t.Logf("CleanCommentBody 1MB: %d bytes in %v", len(out), time.Since(start))
	start = time.Now()
	runs := strings.Repeat(`<w:r><w:rPr><w:b/></w:rPr><w:t>ab</w:t></w:r>`, 400000)
	data := buildDocx(t, docxFile{"word/document.xml", docxDocument(`<w:p>` + runs + `</w:p>`)})
	md, err := models.DocxToMarkdown(data)
	t.Logf("DocxToMarkdown %d MB: %d bytes, %v in %v", len(data)>>20, len(md), err, time.Since(start))
	deep := strings.Repeat("<w:p><w:r><w:t>x</w:t></w:r>", 100000)
	start = time.Now()
	md, err = models.DocxToMarkdown(buildDocx(t, docxFile{"word/document.xml", docxDocument(deep)}))
	t.Logf("DocxToMarkdown unclosed: %d bytes, %v in %v", len(md), err, time.Since(start))
}
