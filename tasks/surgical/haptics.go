package surgical

// ToolForceScale implements sim.ForceScaler: a device renders the grasp
// constraint's breaking force (SurRoL's maxForce 20 N, forceLimit) at full
// strength.
func (s *bench) ToolForceScale() float64 { return forceLimit }
