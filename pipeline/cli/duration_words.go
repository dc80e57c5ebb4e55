package cli

import (
	"strconv"
	"strings"
	"time"
)

// durationWords shows a duration the way a user writes the setting: whole
// days as days ("14d", as sweep's older-than accepts them), else Go's form
// without zero units ("6h", "1h30m", "90s").
func durationWords(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
