package models

import (
	"fmt"
	"testing"
)

func TestZZSmoke(t *testing.T) {
	src := "# Title\n\nSome *para*\ntext <span>x</span>\n\n- a\n  - b\n    - c\n- d\n\n  more d\n\n1. one\n2. two\n\n> quote\n> more\n>\n> ```go\n> code\n> ```\n\n```\nfenced\n```\n\n    indented\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<div>\n<script>alert(1)</script>\nHello <b>there</b>\n</div>\n\n---\n\n* * *\n\n\u00a0\u00a0\n\n[x](javascript:alert(1)) y\n\nSetext\n===\n"
	for _, p := range SplitMarkdown(src) {
		fmt.Printf("%s %d %q\n   %q\n", p.Kind, p.Level, p.Text, p.HTML)
	}
	fmt.Println(RenderMarkdown("Hi *there* <script>alert(1)</script> [a](http://x.com) [b](javascript:alert(1)) www.example.com\nline2 <img src=x onerror=alert(1)> [c](data:text/html,xx)"))
	fmt.Printf("%q\n", CleanCommentBody(`<html><head><style>p{}</style></head><body><!--[if gte mso 9]><xml><o:Doc>x</o:Doc></xml><![endif]--><p class=MsoNormal><span lang=EN-GB style='mso-ansi-language:EN-GB'>We suggest <b>adding</b> a <a href="https://x.org/a b">reference</a>.<o:p></o:p></span></p><p class=MsoListParagraphCxSpFirst style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span style='font-family:Symbol'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span><![endif]>Item one<o:p></o:p></p><ul><li>x<ol><li>y</li></ol></li></ul>line<br>two <i> it </i>end</body></html>`))
}
