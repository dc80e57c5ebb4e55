package pipeline

import "time"

// LockPoll is the apply lock's poll interval (setting lock-poll), or the
// default when the command does not register it.
func (c Config) LockPoll() (time.Duration, error) {
	if c.settings == nil {
		return DefaultLockPoll, nil
	}
	if _, ok := c.settings.vals["lock-poll"]; !ok {
		return DefaultLockPoll, nil
	}
	d, err := c.settings.Duration("lock-poll")
	if err != nil {
		return 0, err
	}
	if d < 10*time.Millisecond {
		return 0, usageErrorf("invalid lock-poll %s: want at least 10ms", d)
	}
	return d, nil
}
