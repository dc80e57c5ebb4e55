package doctor

import (
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
)

// Clock skew limits: the apply lock measures a record's age on the
// server's clock against its own lease, with a margin.
const (
	SkewWarn = 30 * time.Second
	SkewFail = 5 * time.Minute
)

// clock compares the local clock, halfway through the request, with the
// server's Date header. Date has whole seconds and is truncated: the
// server's time was within a second after it.
func (c *checker) clock(head storage.BucketHead, before, after time.Time, err error) {
	switch {
	case head.ServerTime.IsZero() && err != nil && status(err) <= 0:
		c.add("clock", Warn, "not checked: the server did not answer", "")
		return
	case head.ServerTime.IsZero():
		c.add("clock", Warn, "not checked: the server's answer had no Date header", "")
		return
	}
	local := before.Add(after.Sub(before) / 2)
	server := head.ServerTime.Add(500 * time.Millisecond)
	skew := local.Sub(server)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	word := "ahead of"
	if skew < 0 {
		word = "behind"
	}
	detail := fmt.Sprintf("local clock %s %s the server's (Date header)", abs.Round(100*time.Millisecond), word)
	const fix = "synchronise the runner's clock (NTP): the apply lock's lease timing relies on it"
	switch {
	case abs > SkewFail:
		c.add("clock", Fail, detail+fmt.Sprintf(", more than %s", SkewFail), fix)
	case abs > SkewWarn:
		c.add("clock", Warn, detail+fmt.Sprintf(", more than %s", SkewWarn), fix)
	default:
		c.add("clock", OK, detail, "")
	}
}
