package memstore

import (
	"strings"

	"github.com/prstate/prstate/pipeline/storage"
)

// cloneBytes copies b, keeping nil as nil and empty as empty.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// cloneMetadata copies m with lower-cased keys, as S3 returns them; nil
// when m is empty.
func cloneMetadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// cloneItem copies an item.
func cloneItem(it storage.Item) storage.Item {
	out := make(storage.Item, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}
