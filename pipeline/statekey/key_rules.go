package statekey

import (
	"strings"
	"unicode/utf8"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/usage"
)

// MaxKeyBytes is S3's limit on an object key.
const MaxKeyBytes = 1024

// longestPRSibling is the longest name stored beside a PR key: a
// force-unlock backup, <key>.prstate-backup/<UTC timestamp>.
var longestPRSibling = len(BackupInfix) + len(BackupTimeFormat)

// longestProductionSibling is the longest name stored beside the
// production key (the ledger object, or a backup).
var longestProductionSibling = max(len(".prstate-ledger.json"), longestPRSibling)

// checkCharacters rejects text that is not UTF-8 or carries control or
// bidi characters (U+202A–U+202E, U+2066–U+2069, U+200E/F): a key shown
// in a log, summary or policy must read as what it is.
func checkCharacters(what, s string) error {
	if !utf8.ValidString(s) {
		return usage.Errorf("invalid %s \"%s\": not UTF-8", what, escape.Log(s))
	}
	for _, c := range s {
		if escape.IsDangerous(c) {
			return usage.Errorf("invalid %s \"%s\": control or bidi character %U", what, escape.Log(s), c)
		}
	}
	return nil
}

// checkSeparable: a PR key differs from the production key in a whole
// path segment, so that IAM object patterns separate them. Every PR key
// starts with the template's text before {pr} (k.prefix, the literal part
// of a PR pattern such as app/pr-*): neither it nor the production key may
// be a prefix of the other. {key}{pr}, {key}.pr-{pr} and
// {dir}/{file}-pr{pr} give PR keys that app/terraform.tfstate* matches;
// {dir}/{pr}/{file} gives the pattern app/*, which matches production.
func (k Keys) checkSeparable(template string) error {
	if strings.HasPrefix(k.prefix, k.Production) || strings.HasPrefix(k.Production, k.prefix) {
		sample := k.render(1)
		return usage.Errorf("key template \"%s\" gives PR keys such as \"%s\" that do not differ from the production key \"%s\" in a whole path segment, so no IAM pattern separates them; give the PR number a path segment of its own (the default %s)",
			escape.Log(template), escape.Log(sample), escape.Log(k.Production), DefaultKeyTemplate)
	}
	return nil
}

// checkLength: the largest PR number's key, and the names stored beside
// it and beside production, fit S3's 1,024-byte limit.
func (k Keys) checkLength() error {
	if n := len(k.Production) + longestProductionSibling; n > MaxKeyBytes {
		return usage.Errorf("state key \"%s\" is too long: what prstate stores beside it would have %d bytes, more than S3's %d", escape.Log(k.Production), n, MaxKeyBytes)
	}
	longest := k.render(ci.MaxPR)
	if n := len(longest) + longestPRSibling; n > MaxKeyBytes {
		return usage.Errorf("PR keys such as \"%s\" are too long: with what is stored beside them they reach %d bytes, more than S3's %d", escape.Log(longest), n, MaxKeyBytes)
	}
	return nil
}
