package models_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"margin/models"
)

// wordClipboard is what Word (Windows, 2019) puts on the clipboard as
// text/html for a short paragraph, a bold word, a link and a bulleted list,
// trimmed of most of its style sheet.
const wordClipboard = `<html xmlns:v="urn:schemas-microsoft-com:vml"
xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word"
xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8">
<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 15">
<title>Comment</title>
<!--[if gte mso 9]><xml>
 <o:DocumentProperties><o:Author>Jane</o:Author></o:DocumentProperties>
</xml><![endif]-->
<style>
<!--
p.MsoNormal {mso-style-parent:""; margin:0cm; font-size:11.0pt;}
-->
</style>
</head>
<body lang=EN-GB link="#0563C1" vlink="#954F72" style='tab-interval:36.0pt'>
<!--StartFragment-->
<p class=MsoNormal><span lang=EN-GB style='mso-ansi-language:EN-GB'>We suggest
<b>adding</b> a reference to the&nbsp;2019 <i>Act</i>, see <a
href="https://example.org/act">the Act</a>.<o:p></o:p></span></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoListParagraphCxSpFirst style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
lang=EN-GB style='font-family:Symbol;mso-fareast-font-family:Symbol'><span
style='mso-list:Ignore'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;
</span></span></span><![endif]><span lang=EN-GB>First point<o:p></o:p></span></p>
<p class=MsoListParagraphCxSpLast style='margin-left:72.0pt;mso-add-space:auto;
text-indent:-18.0pt;mso-list:l0 level2 lfo1'><![if !supportLists]><span
lang=EN-GB style='font-family:"Courier New"'><span style='mso-list:Ignore'>o<span
style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span></span><![endif]><span
lang=EN-GB>Sub point<o:p></o:p></span></p>
<!--EndFragment-->
</body>
</html>`

func TestCleanCommentBody(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Word clipboard", wordClipboard,
			"We suggest **adding** a reference to the 2019 *Act*, see [the Act](https://example.org/act).\n\n- First point\n  - Sub point"},
		{"short Word fragment", `<p class=MsoNormal><span lang=EN-GB style='mso-ansi-language:EN-GB'>We suggest <b>adding</b> a reference.<o:p></o:p></span></p>`,
			"We suggest **adding** a reference."},
		{"plain text with angle brackets unchanged", "Keep a < b and c > d exactly.", "Keep a < b and c > d exactly."},
		{"plain text with pseudo tag unchanged", "Replace <name> with a <b and c> d", "Replace <name> with a <b and c> d"},
		{"plain text mentioning mso- unchanged", "The mso-list style\n\nbreaks lists.", "The mso-list style\n\nbreaks lists."},
		{"Markdown unchanged", "I propose:\n\n- **one**\n- _two_\n\n> quoted", "I propose:\n\n- **one**\n- _two_\n\n> quoted"},
		{"plain text blank lines collapsed and trimmed", "\n\n  First\r\n\r\n\r\n\r\nSecond  \n\n", "First\n\nSecond"},
		{"plain text NUL and zero-width dropped", "a\x00b\u200bc\u00a0d", "abc d"},
		{"web page paragraphs and breaks", "<div>One<br>two</div><div>Three &amp; four</div>", "One\ntwo\n\nThree & four"},
		{"script, style and comments dropped", "<p>Hi<script>alert(1)</script><style>p{}</style><!-- x --></p>", "Hi"},
		{"ordered list", "<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"},
		{"unordered list", "<ul><li>a</li><li>b</li></ul>", "- a\n- b"},
		{"links: http kept, others reduced to text", `<p><a href="javascript:alert(1)">bad</a> <a href="mailto:x@y.z">mail</a> <a href="http://a.org">http://a.org</a></p>`,
			"bad mail http://a.org"},
		{"strong and em with spaces", "<p>a<strong> b </strong>c<em>d</em></p>", "a **b** c*d*"},
		{"entities decoded", "<p>&lt;tag&gt; &eacute; &#8212; &nbsp;x</p>", "<tag> é —  x"},
		{"conditional comment content dropped", "<p>Text</p><!--[if gte mso 9]><xml><w:WordDocument>secret</w:WordDocument></xml><![endif]-->", "Text"},
		{"meta and title dropped", `<html><head><meta charset="utf-8"><title>T</title></head><body><p>Body</p></body></html>`, "Body"},
		{"NUL inside HTML dropped", "<p>a\x00b</p>", "ab"},
		{"empty HTML", "<p><o:p>&nbsp;</o:p></p>", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := models.CleanCommentBody(tc.in); got != tc.want {
				t.Errorf("CleanCommentBody(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzCleanCommentBody(f *testing.F) {
	for _, s := range []string{wordClipboard, "a < b and c > d", "<p>x<br>y</p>\x00", "<ol><li><ul><li>z</li></ul></li></ol>", "<a href=\"https://x\">[y]</a>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := models.CleanCommentBody(in)
		if !utf8.ValidString(out) || strings.ContainsRune(out, 0) {
			t.Fatalf("CleanCommentBody(%q) = %q: invalid UTF-8 or NUL", in, out)
		}
		if out != strings.TrimSpace(out) || strings.Contains(out, "\n\n\n") {
			t.Fatalf("CleanCommentBody(%q) = %q: untrimmed or blank lines not collapsed", in, out)
		}
		if again := models.CleanCommentBody(out); !strings.Contains(out, "<") && again != out {
			t.Fatalf("CleanCommentBody not stable on its output %q: %q", out, again)
		}
		if bad := unsafeHTML(models.RenderMarkdown(out)); bad != "" {
			t.Fatalf("RenderMarkdown(CleanCommentBody(%q)) unsafe: %s", in, bad)
		}
	})
}
