package tasks

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"tandem/sim"
	"tandem/tasks/endoscope"
	"tandem/tasks/manip"
	"tandem/tasks/pusht"
	"tandem/tasks/surgical"
)

// Maker builds a fresh task instance.
type Maker func() sim.Task

type entry struct {
	spec sim.Spec
	make Maker
}

var (
	once    sync.Once
	entries map[string]entry
	order   []string
)

func load() {
	entries = make(map[string]entry)
	var makers []func() sim.Task
	makers = append(makers, pusht.Makers()...)
	makers = append(makers, manip.Makers()...)
	makers = append(makers, surgical.Makers()...)
	makers = append(makers, endoscope.Makers()...)
	for _, m := range makers {
		spec := m().Spec()
		if err := spec.Validate(); err != nil {
			panic(err) // a task with a broken spec is a programming error
		}
		if _, dup := entries[spec.Name]; dup {
			panic("tasks: duplicate task " + spec.Name)
		}
		entries[spec.Name] = entry{spec: spec, make: m}
		order = append(order, spec.Name)
	}
}

// Names lists the task names in catalogue order (manipulation first).
func Names() []string {
	once.Do(load)
	return append([]string(nil), order...)
}

// Specs lists every task's spec in catalogue order.
func Specs() []sim.Spec {
	once.Do(load)
	out := make([]sim.Spec, 0, len(order))
	for _, n := range order {
		out = append(out, entries[n].spec)
	}
	return out
}

// UnknownError reports a task name that is not in the catalogue.
type UnknownError struct {
	Name  string
	Valid []string
}

func (e *UnknownError) Error() string {
	v := append([]string(nil), e.Valid...)
	sort.Strings(v)
	return fmt.Sprintf("unknown task %q (valid: %s)", e.Name, strings.Join(v, ", "))
}

// Lookup returns the maker for name.
func Lookup(name string) (Maker, error) {
	once.Do(load)
	e, ok := entries[name]
	if !ok {
		return nil, &UnknownError{Name: name, Valid: Names()}
	}
	return e.make, nil
}

// New builds a task by name.
func New(name string) (sim.Task, error) {
	m, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return m(), nil
}

// Spec returns the spec of the named task.
func Spec(name string) (sim.Spec, error) {
	once.Do(load)
	e, ok := entries[name]
	if !ok {
		return sim.Spec{}, &UnknownError{Name: name, Valid: Names()}
	}
	return e.spec, nil
}
