package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// static holds the browser console (web/static, written by its own
// engineer); it is served at / and works offline (no CDN).
//
//go:embed static
var static embed.FS

// staticHandler serves the console files; unknown paths get index.html's
// directory listing rules from http.FileServer (404 for missing files).
func staticHandler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	fsrv := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}
