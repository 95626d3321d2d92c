//go:build !unix

package web

// defaultMaxConns is the connection cap where the descriptor limit cannot
// be read.
func defaultMaxConns() int { return 1024 }
