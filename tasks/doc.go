// Package tasks is tandem's task catalogue: it names every task and builds
// instances by name. The tasks themselves live in subpackages, one per family
// (pusht, manip, surgical, endoscope), each implementing sim.Task with a
// scripted expert; docs/tasks.md describes each task's units, fields, success
// test, rates, source and deviations.
package tasks
