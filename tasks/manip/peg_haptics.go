package manip

// ToolForceScale implements sim.ForceScaler: a device renders the gantry
// servo's force limit (pegForceMax) at full strength.
func (t *PegInsert) ToolForceScale() float64 { return pegForceMax }
