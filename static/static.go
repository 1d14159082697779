// Package static holds the CSS, JavaScript and images served under /static/.
package static

import "embed"

// FS holds the static assets, at the root: margin.css, margin.js, favicon.svg.
//
//go:embed margin.css margin.js favicon.svg
var FS embed.FS
