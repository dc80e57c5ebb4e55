package testenv

import (
	"regexp"
	"strings"
	"time"
)

// lockInfoLine matches a line of terraform's "Lock Info:" block.
var lockInfoLine = regexp.MustCompile(`(?m)^\s*(ID|Operation|Created):\s+(.+?)\s*$`)

// OwnOrphanLock reports the ID of the lock a failed terraform command
// (subcommand sub) met when that lock was created after start for the
// same operation: the tests hold a state's lock only before such a command
// starts, so it is the command's own.
func OwnOrphanLock(out, sub string, start time.Time) (string, bool) {
	if !strings.Contains(out, "Error acquiring the state lock") || !strings.Contains(out, "ConditionalCheckFailed") {
		return "", false
	}
	fields := map[string]string{}
	for _, m := range lockInfoLine.FindAllStringSubmatch(out, -1) {
		fields[m[1]] = m[2]
	}
	created, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", fields["Created"])
	op := "OperationType" + strings.ToUpper(sub[:1]) + sub[1:]
	if err != nil || fields["ID"] == "" || fields["Operation"] != op || !created.After(start) {
		return "", false
	}
	return fields["ID"], true
}
