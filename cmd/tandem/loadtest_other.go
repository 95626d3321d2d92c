//go:build !unix

package main

import "os/exec"

func raiseNofile(int) int { return 0 }

func limitNofile(*exec.Cmd, int) {}
