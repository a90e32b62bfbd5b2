// Package display makes text from outside (file and folder names, consent
// register cells, ids typed on the command line) safe to show on a terminal and in
// photoguard's HTML pages.
//
// Invariant: Escape's result holds no control character (C0, DEL, C1: so no
// ESC sequence can move the cursor, set the title or clear the screen), no
// bidirectional control that reorders what is shown (U+202A-U+202E,
// U+2066-U+2069, U+200E, U+200F, U+061C), no invalid UTF-8, and no other
// invisible format character; each is written as a visible escape (\x1b,
// \n, \u202e), so that two different strings never look the same. The
// pages' HTML escaping (html/template) is applied on top of it.
package display
