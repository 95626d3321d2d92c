package demos

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPolicyVersionsPromoteAndRollBack(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	add := func(version string) {
		t.Helper()
		if err := s.AddPolicy(ctx, PolicyVersion{Version: version, Task: "reach", Algo: "bc", Path: "policies/" + version + ".safetensors",
			Digest: "abc", Card: json.RawMessage(`{"algo":"bc"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	next, err := s.NextPolicyVersion(ctx, "reach", "bc")
	if err != nil || next != "reach-bc-1" {
		t.Fatalf("first version %q, %v; want reach-bc-1", next, err)
	}
	add("reach-bc-1")
	add("reach-bc-2")
	if next, _ := s.NextPolicyVersion(ctx, "reach", "bc"); next != "reach-bc-3" {
		t.Fatalf("next version %q; want reach-bc-3", next)
	}
	if _, ok, err := s.Current(ctx, "reach"); ok || err != nil {
		t.Fatalf("current before any promotion: %v %v; want none", ok, err)
	}
	if err := s.Promote(ctx, "reach-bc-1", "first"); err != nil {
		t.Fatal(err)
	}
	if err := s.Promote(ctx, "reach-bc-2", "better"); err != nil {
		t.Fatal(err)
	}
	cur, ok, err := s.Current(ctx, "reach")
	if err != nil || !ok || cur.Version != "reach-bc-2" || !cur.Promoted {
		t.Fatalf("current %+v %v %v; want reach-bc-2 promoted", cur, ok, err)
	}
	back, err := s.Rollback(ctx, "reach", "worse in the field")
	if err != nil || back.Version != "reach-bc-1" {
		t.Fatalf("rollback to %q, %v; want reach-bc-1", back.Version, err)
	}
	list, err := s.Policies(ctx, "reach")
	if err != nil || len(list) != 2 {
		t.Fatalf("list %d, %v", len(list), err)
	}
	for _, v := range list {
		if v.Promoted != (v.Version == "reach-bc-1") {
			t.Errorf("%s promoted %v after the rollback", v.Version, v.Promoted)
		}
	}
	// Rolling back again returns to reach-bc-2 (the previously current one).
	if back, err := s.Rollback(ctx, "reach", ""); err != nil || back.Version != "reach-bc-2" {
		t.Fatalf("second rollback %q, %v; want reach-bc-2", back.Version, err)
	}
	// The history keeps every promotion and rollback, oldest first.
	hist, err := s.Promotions(ctx, "reach", 100)
	var got []string
	for _, p := range hist {
		got = append(got, p.Version+" "+p.Reason)
	}
	want := []string{"reach-bc-1 first", "reach-bc-2 better", "reach-bc-1 worse in the field", "reach-bc-2 "}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("history %q, %v; want %q", got, err, want)
	}
	if last, _ := s.Promotions(ctx, "", 2); len(last) != 2 || last[1].Reason != "" || last[0].Reason != "worse in the field" {
		t.Errorf("the newest 2 of every task: %+v; want the two rollbacks, oldest first", last)
	}
	if other, _ := s.Promotions(ctx, "push-t", 100); len(other) != 0 {
		t.Errorf("history of another task: %+v; want none", other)
	}
	if err := s.AddPolicy(ctx, PolicyVersion{Version: "reach-bc-1", Task: "reach", Algo: "bc", Path: "x", Digest: "y"}); err == nil {
		t.Error("a duplicate version was stored")
	}
	if err := s.AddPolicy(ctx, PolicyVersion{Version: "../evil", Task: "reach", Algo: "bc", Path: "x", Digest: "y"}); err == nil {
		t.Error("a version naming a path was stored")
	}
	if _, err := s.Policy(ctx, "nope"); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("unknown version: %v; want ErrNoPolicy", err)
	}
	if err := s.Promote(ctx, "nope", ""); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("promoting an unknown version: %v; want ErrNoPolicy", err)
	}
}
