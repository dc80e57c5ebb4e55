package cleanup

import (
	"fmt"
	"strings"

	"github.com/prstate/prstate/pipeline/statekey"
)

// ownedNames checks that everything cleanup would remove for PR pr belongs
// to that PR alone. Cleanup removes the objects key, key.tflock and the
// seed record and the items <bucket>/key and <bucket>/key-md5; with an unlucky template or
// production key one of those names could be production's (its state,
// lock file, digest, or prstate's apply lock beside it) or another PR's.
// Then nothing is removed.
func ownedNames(k statekey.Keys, pr int, key string) error {
	if got, ok := k.Match(key); !ok || got != pr {
		return fmt.Errorf("%s is not the state key of PR #%d: left alone", key, pr)
	}
	prod := k.Production
	names := []string{key, key + ".tflock", key + "-md5", statekey.SeedRecordKey(key)}
	// key itself may be the lock file, digest or seed record of another key.
	for _, suffix := range []string{".tflock", "-md5", statekey.SeedRecordSuffix} {
		if base, ok := strings.CutSuffix(key, suffix); ok {
			names = append(names, base)
		}
	}
	for _, s := range names {
		if s == prod || s == prod+".tflock" || s == prod+"-md5" || strings.HasPrefix(s, prod+".prstate-") {
			return fmt.Errorf("the key template makes PR #%d's state %s collide with production's %s: left alone", pr, key, s)
		}
		if other, ok := k.Match(s); ok && other != pr {
			return fmt.Errorf("the key template makes PR #%d's state %s collide with PR #%d's %s: left alone", pr, key, other, s)
		}
	}
	return nil
}
