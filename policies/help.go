package policies

import (
	"context"

	"tandem/policies/nn"
)

// Help requests (ThriftyDAgger's novelty and risk) are not wired yet: the
// shared training loop already calls fitHelp when help is on, and
// parseHelp reads no parameter, so help stays off.

const (
	thriftyMembers = 5
	helpKey        = "help"
)

type helpConfig struct {
	On    bool
	Steps int
}

func parseHelp(*params) (helpConfig, error) { return helpConfig{}, nil }

func fitHelp(context.Context, helpConfig, *nn.Model, *trainData, *TrainInput, int, func(int)) (any, map[string]any, error) {
	return nil, nil, nil
}
