package open

import (
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/photoguard/photoguard/pipeline/target"
)

// targetType is one entry of the table (types.go): a type's keys, what
// must be set, its checks and its constructor. Validate, Check, Warnings
// and New read the table and name no type.
type targetType struct {
	name string
	// keys are the keys it uses besides type; another key that is set is
	// refused as not used by this type.
	keys []string
	// folder is the key that names a folder on this machine photos are
	// published into ("" when they go to a server).
	folder string
	// needs are what must be set, in the order problems are listed.
	needs []need
	// check finds what else is wrong with the values given (a URL's form),
	// without reading a file or contacting anything. Optional.
	check func(o Options, bad badFunc)
	// load checks what build will read from the files named, beyond the
	// password (a certificate file's certificates). Optional.
	load func(o Options, bad badFunc)
	// build makes the target from settings that passed Check; password is
	// what password_file or password_env holds ("" when neither is set).
	// Nothing is contacted.
	build func(o Options, password string) (target.Target, error)
}

// badFunc records a problem with a key (its last part: "url").
type badFunc func(key, format string, args ...any)

// need is that one of keys must be set; what says what the value is.
type need struct {
	keys []string
	what string
}

// msg is the problem when none of the keys is set: "must be set (what)",
// or "a, b or c must be set (what)".
func (n need) msg() string {
	m := "must be set"
	if len(n.keys) > 1 {
		m = strings.Join(n.keys[:len(n.keys)-1], ", ") + " or " + n.keys[len(n.keys)-1] + " " + m
	}
	if n.what != "" {
		m += " (" + n.what + ")"
	}
	return m
}

func (t targetType) uses(key string) bool { return slices.Contains(t.keys, key) }

func lookup(name string) (targetType, bool) {
	for _, t := range types {
		if t.name == name {
			return t, true
		}
	}
	return targetType{}, false
}

func typeNames() []string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.name
	}
	return names
}

// built returns tg as a target.Target: a nil *T as a nil interface.
func built[T target.Target](tg T, err error) (target.Target, error) {
	if err != nil {
		return nil, err
	}
	return tg, nil
}

// kind is what a key's value is, the same in every type that uses the
// key, and so how it is checked and resolved.
type kind int

const (
	value      kind = iota // a value for the server: a URL, a user, a folder there
	file                   // a file on this machine that must exist
	secretFile             // a file holding a secret: not readable by everyone
	envName                // the name of an environment variable holding a secret
)

// kinds are the keys that are not plain values.
var kinds = map[string]kind{
	"password_file": secretFile,
	"key_file":      secretFile,
	"known_hosts":   file,
	"ca_file":       file,
	"password_env":  envName,
}

// fields maps each key to its field in Settings, from the tags (the
// configuration's own spelling of the keys).
var fields = func() map[string]int {
	t := reflect.TypeFor[Settings]()
	m := map[string]int{}
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("mapstructure")] = i
	}
	return m
}()

// settingKeys are the keys besides type, sorted.
var settingKeys = func() []string {
	var ks []string
	for k := range fields {
		if k != "type" {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}()

// field is the field of key; nil for a key Settings does not have.
func (s *Settings) field(key string) *string {
	i, ok := fields[key]
	if !ok {
		return nil
	}
	return reflect.ValueOf(s).Elem().Field(i).Addr().Interface().(*string)
}

func (s Settings) get(key string) string {
	if p := s.field(key); p != nil {
		return *p
	}
	return ""
}
