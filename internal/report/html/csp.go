package html

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
)

// The stylesheet and the script, inline in every report. They are
// constants of the program, never made from report data: that is what
// lets the policy allow them by hash.
var (
	style  = mustAsset("style.css")
	script = mustAsset("script.js")
	// noScript is the stylesheet of a browser without JavaScript (in
	// <noscript>): it shows every finding's details, which only the
	// script can open otherwise.
	noScript = mustAsset("noscript.css")
)

// policy is the report's Content-Security-Policy (in a <meta> element: a
// file opened from disk has no headers). Nothing may load ('none' for
// every fetch, so no image, font, frame, connection or form target), and
// only the stylesheets and the one script of the file apply, named by
// their SHA-256. A hash rather than a nonce: the text never changes
// between reports, so the hash is fixed, and a nonce, which would have to
// be derived from the report to keep the output deterministic, would be
// guessable by whoever wrote the report's strings. Inline style attributes
// and event handler attributes are refused too, which is why the markup
// has neither (the script hides rows with the hidden property).
var policy = "default-src 'none'; style-src '" + sha256Source(style) + "' '" + sha256Source(noScript) +
	"'; script-src '" + sha256Source(script) + "'; base-uri 'none'; form-action 'none'"

// sha256Source is a CSP hash source for an inline element's text.
func sha256Source(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func mustAsset(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// The assets go into the page as trusted CSS and JS: html/template writes
// values of these types into <style> and <script> unchanged, byte for
// byte, which the hashes need.
var (
	styleCSS    = template.CSS(style)
	noScriptCSS = template.CSS(noScript)
	scriptJS    = template.JS(script)
)
