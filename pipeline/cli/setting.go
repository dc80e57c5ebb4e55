package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/usage"
)

// setting is one declared setting. Its typed forms (StringSetting,
// BoolSetting, DurationSetting) decide how a value is read, so reading a
// setting the wrong way does not compile.
type setting struct {
	name   string
	def    string
	usage  string
	isBool bool
}

// declared is every setting, in declaration order: the one list the flags,
// the environment and action.yml are checked against.
var declared []*setting

func declare(s *setting) *setting {
	declared = append(declared, s)
	return s
}

// StringSetting is a setting read as text.
type StringSetting struct{ *setting }

// BoolSetting is a setting read as true or false ("" is false).
type BoolSetting struct{ *setting }

// DurationSetting is a setting read as a duration ("" is 0; "7d" is 7 days).
type DurationSetting struct{ *setting }

// ListSetting is a repeatable setting: every flag in order, else the
// environment's value split by newlines and commas.
type ListSetting struct{ *setting }

func stringSetting(name, def, usage string) StringSetting {
	return StringSetting{declare(&setting{name: name, def: def, usage: usage})}
}

func boolSetting(name, def, usage string) BoolSetting {
	return BoolSetting{declare(&setting{name: name, def: def, usage: usage, isBool: true})}
}

func durationSetting(name, def, usage string) DurationSetting {
	return DurationSetting{declare(&setting{name: name, def: def, usage: usage})}
}

func listSetting(name, def, usage string) ListSetting {
	return ListSetting{declare(&setting{name: name, def: def, usage: usage})}
}

// EnvName is the setting's environment variable: PRSTATE_<NAME>.
func (s *setting) EnvName() string {
	return "PRSTATE_" + strings.ReplaceAll(strings.ToUpper(s.name), "-", "_")
}

// InputName is the action input as the container sees it: INPUT_<NAME>.
func (s *setting) InputName() string { return "INPUT_" + strings.ToUpper(s.name) }

// lookup resolves a value that no flag set: PRSTATE_<NAME>, then the
// action input, then the default. set tells whether anything set it.
func (s *setting) lookup(env ci.Env) (string, bool) {
	if e := env(s.EnvName()); e != "" {
		return e, true
	}
	if e := env(s.InputName()); e != "" {
		return strings.TrimSpace(e), true
	}
	return s.def, false
}

// settingSet binds settings to a command's flags and the environment.
type settingSet struct {
	fs  *flag.FlagSet
	env ci.Env
}

func newSettingSet(fs *flag.FlagSet, env ci.Env) *settingSet {
	return &settingSet{fs: fs, env: env}
}

// value is one bound setting: a flag, and the environment behind it.
type value struct {
	s     *setting
	env   ci.Env
	flag  string
	flags []string // every value the flag was given, in order (ListSetting)
	set   bool
}

func (v *value) String() string { return v.flag }
func (v *value) Set(s string) error {
	v.flag, v.set = s, true
	v.flags = append(v.flags, s)
	return nil
}
func (v *value) IsBoolFlag() bool { return v.s.isBool }

// origin says how the user set the setting, as messages name it:
// "--bucket", "PRSTATE_BUCKET" or "input bucket" ("" when nothing did).
func (v *value) origin() string {
	switch {
	case v.set:
		return "--" + v.s.name
	case v.env(v.s.EnvName()) != "":
		return v.s.EnvName()
	case strings.TrimSpace(v.env(v.s.InputName())) != "":
		return "input " + v.s.name
	}
	return ""
}

// lookup is the value: the flag wins, then PRSTATE_<NAME>, then the
// action input, then the default.
func (v *value) lookup() (string, bool) {
	if v.set {
		return v.flag, true
	}
	return v.s.lookup(v.env)
}

func (ss *settingSet) bind(s *setting) *value {
	v := &value{s: s, env: ss.env}
	u := s.usage
	if s.def != "" {
		u += fmt.Sprintf(" (default %s)", s.def)
	}
	ss.fs.Var(v, s.name, u)
	return v
}

// StringValue is a bound StringSetting.
type StringValue struct{ v *value }

// BoolValue is a bound BoolSetting.
type BoolValue struct{ v *value }

// DurationValue is a bound DurationSetting.
type DurationValue struct{ v *value }

// ListValue is a bound ListSetting.
type ListValue struct{ v *value }

// String registers s as a flag; the value is read after parsing.
func (ss *settingSet) String(s StringSetting) StringValue { return StringValue{ss.bind(s.setting)} }

// Bool registers s as a flag.
func (ss *settingSet) Bool(s BoolSetting) BoolValue { return BoolValue{ss.bind(s.setting)} }

// Duration registers s as a flag.
func (ss *settingSet) Duration(s DurationSetting) DurationValue {
	return DurationValue{ss.bind(s.setting)}
}

// List registers s as a repeatable flag.
func (ss *settingSet) List(s ListSetting) ListValue { return ListValue{ss.bind(s.setting)} }

// Get returns every --name flag in order; else PRSTATE_<NAME>, else the
// input, split by newlines and commas (outside quotes and brackets, so an
// HCL value stays whole); nil when unset.
func (lv ListValue) Get() []string {
	v := lv.v
	if v.set {
		return append([]string(nil), v.flags...)
	}
	if e := v.env(v.s.EnvName()); e != "" {
		return backend.SplitItems(e)
	}
	return backend.SplitItems(v.env(v.s.InputName()))
}

// Origin says how the user set the setting ("" when nothing did).
func (sv StringValue) Origin() string { return sv.v.origin() }

// Origin says how the user set the setting ("" when nothing did).
func (bv BoolValue) Origin() string { return bv.v.origin() }

// Get returns the text and whether anything set it.
func (sv StringValue) Get() (string, bool) { return sv.v.lookup() }

// Text returns the text, or the default.
func (sv StringValue) Text() string { s, _ := sv.v.lookup(); return s }

// Get parses the value; "" is false.
func (bv BoolValue) Get() (b, set bool, err error) {
	s, set := bv.v.lookup()
	if s == "" {
		return false, set, nil
	}
	b, err = strconv.ParseBool(s)
	if err != nil {
		return false, set, usage.Errorf("invalid %s %q: want true or false", bv.v.s.name, s)
	}
	return b, set, nil
}

// Get parses the value; "" is 0. Days are accepted ("7d").
func (dv DurationValue) Get() (d time.Duration, set bool, err error) {
	s, set := dv.v.lookup()
	if s == "" {
		return 0, set, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, set, nil
		}
	}
	d, err = time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, set, usage.Errorf("invalid %s %q: want a duration like 30s, 10m, 6h or 7d", dv.v.s.name, s)
	}
	return d, set, nil
}
