package web

import (
	"tandem/foxglove"
	"tandem/sim"
)

// JSON schemas of the Foxglove channels other than the scene, whose schema
// (foxglove.SceneUpdate) comes from package foxglove.
var eventsSchema = foxglove.Object("tandem.Events", map[string]foxglove.Schema{
	"episode": foxglove.Integer(), "t": foxglove.Integer(), "events": foxglove.Array(foxglove.String()),
}).String()

func stateSchema(spec *sim.Spec) string {
	obs := map[string]foxglove.Schema{}
	for _, n := range spec.ObsNames {
		obs[n] = foxglove.Number()
	}
	str, num, boolean, integer := foxglove.String(), foxglove.Number(), foxglove.Boolean(), foxglove.Integer()
	return foxglove.Object("tandem.State", map[string]foxglove.Schema{
		"episode": integer, "t": integer, "kind": str, "source": str,
		"operator": str, "policy_version": str, "reward": num, "return": num,
		"success": boolean, "done": boolean, "interventions": integer, "help": boolean,
		"obs": foxglove.Object("", obs),
	}).String()
}

func actionSchema(spec *sim.Spec) string {
	act := map[string]foxglove.Schema{}
	for _, n := range spec.ActionNames {
		act[n] = foxglove.Number()
	}
	return foxglove.Object("tandem.Action", map[string]foxglove.Schema{
		"episode": foxglove.Integer(), "t": foxglove.Integer(), "source": foxglove.String(),
		"action": foxglove.Object("", act), "policy_action": foxglove.Object("", act),
	}).String()
}
