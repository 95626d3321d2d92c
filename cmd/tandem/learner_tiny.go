//go:build tandem_tiny

package main

import "tandem/policies/learntest"

// The tiny test learner, for the multi-process tests and the compose
// smoke test until the real learners land: go build -tags tandem_tiny.
func init() { learntest.Register() }
