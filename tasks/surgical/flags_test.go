package surgical

import "flag"

var (
	sweepTask = flag.String("sweep", "", "task whose expert curve TestExpertSweep measures")
	sweepN    = flag.Int("sweepn", 100, "seeds per skill level in TestExpertSweep")
)
