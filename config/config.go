package config

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
	"github.com/photoguard/photoguard/internal/keyerr"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/target/open"
	"github.com/photoguard/photoguard/redact/mask"
)

//go:embed default.yaml
var defaultYAML []byte

// Example returns the fully commented default configuration; it is also the
// embedded default every file is merged over.
func Example() []byte { return bytes.Clone(defaultYAML) }

// EnvPrefix is the prefix of environment overrides: PHOTOGUARD_OUTPUT_QUALITY
// overrides output.quality.
const EnvPrefix = "PHOTOGUARD"

// Channels a target can publish to; consent is given per channel. They are
// the consent store's (consent.Channels).
var Channels = consent.Channels()

// Config is photoguard's whole configuration. Every field is set: the
// embedded default.yaml provides a value for each key.
type Config struct {
	Inbox         string            `mapstructure:"inbox"`
	StateDir      string            `mapstructure:"state_dir"`
	ModelsDir     string            `mapstructure:"models_dir"`
	WipeInputs    bool              `mapstructure:"wipe_inputs"`
	TeacherNotes  bool              `mapstructure:"teacher_notes"`
	Workers       int               `mapstructure:"workers"`
	Targets       map[string]Target `mapstructure:"targets"`
	DefaultTarget string            `mapstructure:"default_target"`
	Categories    Categories        `mapstructure:"categories"`
	Faces         Faces             `mapstructure:"faces"`
	Consent       Consent           `mapstructure:"consent"`
	Output        Output            `mapstructure:"output"`
	Limits        Limits            `mapstructure:"limits"`
	Watch         Watch             `mapstructure:"watch"`
	Retention     Retention         `mapstructure:"retention"` // issue 12
	Approval      Approval          `mapstructure:"approval"`  // issue 20
	Individual    Individual        `mapstructure:"individual"`
	Video         Video             `mapstructure:"video"` // issue 21

	// File is the configuration file this was loaded from ("" for the
	// embedded default alone). Not a key.
	File string `mapstructure:"-"`
}

// Target is one publishing destination: its type's keys (open.Settings:
// type, url, path, user, ...; pipeline/target/open says which a type uses
// and needs) and the keys every target has. Secrets are only ever named (a
// file, an environment variable), never written here.
type Target struct {
	open.Settings `mapstructure:",squash"`
	Channel       string `mapstructure:"channel"`
	// MaxSide and Quality shape this target's photos; 0 (unset) takes
	// output.max_side and output.quality.
	MaxSide int `mapstructure:"max_side"`
	Quality int `mapstructure:"quality"`
	// Approval is "direction" (each photo waits for `photoguard approve`)
	// or "none"; Individual "closed_only" (a photo with one pupil
	// recognisable on their own is not published here) or "allowed".
	// Unset, the channel's default (ChannelDefaults).
	Approval   string `mapstructure:"approval"`
	Individual string `mapstructure:"individual"`
}

// The values of targets.NAME.approval and targets.NAME.individual.
const (
	ApprovalDirection    = "direction"
	ApprovalNone         = "none"
	IndividualClosedOnly = "closed_only"
	IndividualAllowed    = "allowed"
)

// ChannelDefaults are a channel's approval and individual rule when its
// target sets none: the external channels (website, social_media) need the
// direction's approval and take no photo of one pupil on their own; the
// closed ones (parent_portal, newsletter) need neither.
func ChannelDefaults(channel string) (approval, individual string) {
	switch channel {
	case "website", "social_media":
		return ApprovalDirection, IndividualClosedOnly
	}
	return ApprovalNone, IndividualAllowed
}

// Approval configures the direction's approval (issue 20).
type Approval struct {
	// Expire: a photo not answered this long after it started to wait is
	// rejected, and its original deleted.
	Expire time.Duration `mapstructure:"expire"`
}

// Individual configures when a photo counts as a portrait of one pupil.
type Individual struct {
	// MinShare: one shown face whose box is at least this share of the
	// photo's shorter side makes the photo a portrait, whatever else is
	// in it.
	MinShare float64 `mapstructure:"min_share"`
}

// Options are the target's settings for pipeline/target/open, which
// validates them and builds the target.
func (t Target) Options(name string) open.Options {
	return open.Options{Name: name, Settings: t.Settings}
}

// Categories are the photo categories staff flagged.
type Categories struct {
	Reject []string `mapstructure:"reject"`
}

// Faces configures detection, matching, policy and redaction.
type Faces struct {
	Policy        string  `mapstructure:"policy"`
	Detector      string  `mapstructure:"detector"`
	DetectMaxSide int     `mapstructure:"detect_max_side"`
	Upsample      int     `mapstructure:"upsample"`
	CNNMaxSide    int     `mapstructure:"cnn_max_side"`
	Threshold     float64 `mapstructure:"threshold"`
	Margin        float64 `mapstructure:"margin"`
	MinFacePx     int     `mapstructure:"min_face_px"`
	Redact        Redact  `mapstructure:"redact"`
	// The analysis: coverage floor, finder, budgets (detect/analyze).
	CoveragePx      int           `mapstructure:"coverage_px"`
	Finder          string        `mapstructure:"finder"`
	AnalysisMaxSide int           `mapstructure:"analysis_max_side"`
	MemoryMB        int           `mapstructure:"memory_mb"`
	TimeBudget      time.Duration `mapstructure:"time_budget"`
	Normalize       bool          `mapstructure:"normalize"`
}

// Redact says how faces are made unrecognisable.
type Redact struct {
	Mode      string  `mapstructure:"mode"`
	Shape     string  `mapstructure:"shape"`
	MaskScale float64 `mapstructure:"mask_scale"`
}

// Consent configures the consent store and how consent exports are read.
type Consent struct {
	SchoolYearStart string `mapstructure:"school_year_start"`
	// MaxRemove is the most people a `consent import` may remove without
	// --allow-remove.
	MaxRemove int `mapstructure:"max_remove"`
	// BackupDays is how long the copy of the store kept before each import
	// stays in state_dir.
	BackupDays int `mapstructure:"backup_days"`
	// Columns name an export's own headers for photoguard's columns.
	Columns ConsentColumns `mapstructure:"columns"`
}

// ConsentColumns name, for an export whose headers photoguard does not know,
// the export's own header of each column (empty: found by its name).
type ConsentColumns struct {
	ID           string `mapstructure:"id"`
	FirstName    string `mapstructure:"first_name"`
	Infix        string `mapstructure:"infix"`
	LastName     string `mapstructure:"last_name"`
	Group        string `mapstructure:"group"`
	Role         string `mapstructure:"role"`
	ConfirmedOn  string `mapstructure:"confirmed_on"`
	Website      string `mapstructure:"website"`
	SocialMedia  string `mapstructure:"social_media"`
	Newsletter   string `mapstructure:"newsletter"`
	ParentPortal string `mapstructure:"parent_portal"`
}

// Map is the mapping as consent.CSVOptions takes it: column name -> header,
// for the columns that are set.
func (c ConsentColumns) Map() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"id": c.ID, "first_name": c.FirstName, "infix": c.Infix, "last_name": c.LastName,
		"group": c.Group, "role": c.Role, "confirmed_on": c.ConfirmedOn, "website": c.Website, "social_media": c.SocialMedia,
		"newsletter": c.Newsletter, "parent_portal": c.ParentPortal} {
		if strings.TrimSpace(v) != "" {
			m[k] = v
		}
	}
	return m
}

// SchoolYearStartMD returns the month and day the school year starts.
func (c Consent) SchoolYearStartMD() (time.Month, int, error) {
	t, err := time.Parse("01-02", c.SchoolYearStart)
	if err != nil {
		return 0, 0, fmt.Errorf("%q is not a month-day like 08-01", c.SchoolYearStart)
	}
	// The consent store refuses a day that not every year has (02-29).
	if time.Date(2001, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Day() != t.Day() {
		return 0, 0, fmt.Errorf("%q is not a day every year has", c.SchoolYearStart)
	}
	return t.Month(), t.Day(), nil
}

// The ranges of output.max_side and output.quality, and of a target's own.
const (
	minOutputSide, maxOutputSide = 256, 8192
	minQuality, maxQuality       = 40, 100
)

// Output shapes the published JPEG (each target may set its own, see
// Target).
type Output struct {
	MaxSide int `mapstructure:"max_side"`
	Quality int `mapstructure:"quality"`
}

// Limits are checked from the header before any pixel is decoded.
type Limits struct {
	MaxFileMB     int           `mapstructure:"max_file_mb"`
	MaxSide       int           `mapstructure:"max_side"`
	MaxPixels     int64         `mapstructure:"max_pixels"`
	DecodeTimeout time.Duration `mapstructure:"decode_timeout"`
}

// Video is how videos are taken and published (issue 21).
type Video struct {
	Enabled       bool          `mapstructure:"enabled"`
	LivePhotos    string        `mapstructure:"live_photos"`
	Audio         string        `mapstructure:"audio"`
	MaxSeconds    int           `mapstructure:"max_seconds"`
	MaxFileMB     int           `mapstructure:"max_file_mb"`
	MaxSourceSide int           `mapstructure:"max_source_side"`
	MaxSourceFPS  int           `mapstructure:"max_source_fps"`
	MaxStreams    int           `mapstructure:"max_streams"`
	MaxSide       int           `mapstructure:"max_side"`
	FPS           int           `mapstructure:"fps"`
	Quality       int           `mapstructure:"quality"`
	AnalysisFPS   float64       `mapstructure:"analysis_fps"`
	MinFrames     int           `mapstructure:"min_frames"`
	MinShare      float64       `mapstructure:"min_share"`
	Timeout       time.Duration `mapstructure:"timeout"`
}

// Watch tunes readiness and the daemon's scanning: the inbox's options
// (pipeline/inbox owns their defaults and ranges).
type Watch struct {
	Settle time.Duration `mapstructure:"settle"`
	Rescan time.Duration `mapstructure:"rescan"`
	GiveUp time.Duration `mapstructure:"give_up"`
}

// Retention says how long what was not published, and the records of what
// was, are kept in state_dir (issue 12).
type Retention struct {
	// Originals: photos in rejected/, quarantine/ and held/.
	Originals time.Duration `mapstructure:"originals"`
	// Review: review records under state_dir/review/.
	Review time.Duration `mapstructure:"review"`
	// Journal: records of finished photos (they recognise a photo
	// delivered again; they hold no input path).
	Journal time.Duration `mapstructure:"journal"`
}

// Inbox returns the options as the inbox takes them.
func (w Watch) Inbox() inbox.Options {
	return inbox.Options{Settle: w.Settle, Rescan: w.Rescan, GiveUp: w.GiveUp}
}

// Load reads the embedded default, merges the YAML file at path over it (if
// path is not ""), applies PHOTOGUARD_* environment overrides and validates
// the result. Relative paths are resolved against the file's folder.
func Load(path string) (*Config, error) {
	var data []byte
	base, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if path != "" {
		data, err = os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		base = filepath.Dir(abs)
	}
	cfg, err := Parse(data, base, os.Environ())
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("config file %s:\n%w", path, err)
		}
		return nil, err
	}
	cfg.File = path
	return cfg, nil
}

// Parse is Load without the file system: file is the YAML (nil for none),
// base the folder relative paths are resolved against, environ the
// environment ("KEY=value" strings).
func Parse(file []byte, base string, environ []string) (*Config, error) {
	def := viper.New()
	def.SetConfigType("yaml")
	if err := def.ReadConfig(bytes.NewReader(defaultYAML)); err != nil {
		return nil, fmt.Errorf("embedded default config: %w", err)
	}
	merged := def.AllSettings()

	if len(bytes.TrimSpace(file)) > 0 {
		user := viper.New()
		user.SetConfigType("yaml")
		if err := user.ReadConfig(bytes.NewReader(file)); err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
		if errs := unknownKeys(user.AllKeys()); len(errs) > 0 {
			return nil, errs
		}
		us := user.AllSettings()
		// A file that lists its targets means exactly those targets: the
		// default one is not merged in beside them.
		if _, ok := us["targets"]; ok {
			delete(merged, "targets")
		}
		mergeMaps(merged, us)
	}

	v := viper.New()
	if err := v.MergeConfigMap(merged); err != nil {
		return nil, err
	}
	if errs := unknownEnv(v.AllKeys(), environ); len(errs) > 0 {
		return nil, errs
	}
	// Environment overrides win over the file. They are applied from the
	// environ given (not viper's AutomaticEnv) so that tests pass their own.
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if key, ok := envKey(v.AllKeys(), name); ok {
			v.Set(key, val)
		}
	}

	var cfg Config
	if err := v.UnmarshalExact(&cfg); err != nil {
		return nil, fmt.Errorf("%s", cleanDecodeError(err))
	}
	cfg.normalise()
	cfg.resolvePaths(base)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// mergeMaps merges src into dst recursively; values in src win.
func mergeMaps(dst, src map[string]any) {
	for k, sv := range src {
		if sm, ok := sv.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeMaps(dm, sm)
				continue
			}
		}
		dst[k] = sv
	}
}

// knownKeys lists every key a file may set, from the struct tags; a map
// field (targets) is written with "*" for the name.
func knownKeys() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("mapstructure")
			if tag == ",squash" {
				walk(f.Type, prefix)
				continue
			}
			if tag == "" || tag == "-" {
				continue
			}
			key := prefix + tag
			ft := f.Type
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)):
				walk(ft, key+".")
			case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), key+".*.")
			default:
				keys = append(keys, key)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	sort.Strings(keys)
	return keys
}

func keyMatches(pattern, key string) bool {
	p := strings.Split(pattern, ".")
	k := strings.Split(key, ".")
	if len(p) != len(k) {
		return false
	}
	for i := range p {
		if p[i] != "*" && p[i] != k[i] {
			return false
		}
	}
	return true
}

func isKnown(key string) bool {
	for _, p := range knownKeys() {
		if keyMatches(p, key) {
			return true
		}
	}
	return false
}

func unknownKeys(keys []string) keyerr.Errors {
	var errs keyerr.Errors
	for _, k := range keys {
		if strings.HasPrefix(k, "targets.") && open.IsSecretKey(k) {
			errs = append(errs, &keyerr.Error{Key: k, Msg: open.PlainSecretMsg})
			continue
		}
		if !isKnown(k) {
			msg := "unknown key"
			if s := suggest(k); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, &keyerr.Error{Key: k, Msg: msg})
		}
	}
	return errs
}

// reservedEnv are PHOTOGUARD_ variables that are not config keys.
var reservedEnv = []string{
	"PHOTOGUARD_CONFIG", "PHOTOGUARD_KEY", "PHOTOGUARD_MODELS_FROM",
	"PHOTOGUARD_TEST", "PHOTOGUARD_MEASURE", "PHOTOGUARD_SOAK", "PHOTOGUARD_BENCH",
	// scripts/setup.sh's
	"PHOTOGUARD_FINDER_FROM", "PHOTOGUARD_SKIP_", "PHOTOGUARD_MODELS_TRUST_NEW",
}

func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func envKey(keys []string, name string) (string, bool) {
	for _, k := range keys {
		if envName(k) == name {
			return k, true
		}
	}
	return "", false
}

// unknownEnv refuses PHOTOGUARD_ variables that name no key, so that
// PHOTOGUARD_FACES_TRESHOLD=0.4 is an error, not a silent default.
func unknownEnv(keys []string, environ []string) keyerr.Errors {
	var errs keyerr.Errors
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		if _, ok := envKey(keys, name); ok {
			continue
		}
		reserved := false
		for _, r := range reservedEnv {
			if strings.HasPrefix(name, r) {
				reserved = true
			}
		}
		if reserved {
			continue
		}
		msg := "environment variable names no config key"
		if s := suggestEnv(name); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		errs = append(errs, &keyerr.Error{Key: name, Msg: msg})
	}
	return errs
}

func suggest(key string) string {
	best, bestD := "", 4
	for _, k := range knownKeys() {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func suggestEnv(name string) string {
	best, bestD := "", 4
	for _, k := range knownKeys() {
		if strings.Contains(k, "*") {
			continue
		}
		if d := editDistance(name, envName(k)); d < bestD {
			best, bestD = envName(k), d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// cleanDecodeError turns mapstructure's wording into one line per key.
func cleanDecodeError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "decoding failed due to the following error(s):")
	s = strings.TrimSpace(s)
	return s
}

func (c *Config) resolvePaths(base string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	c.Inbox = abs(c.Inbox)
	c.StateDir = abs(c.StateDir)
	c.ModelsDir = abs(c.ModelsDir)
	for name, t := range c.Targets {
		// Only a dir target's path is on this machine; the others' is a
		// folder on the server (open knows which).
		t.Resolve(abs)
		c.Targets[name] = t
	}
}

func (c *Config) normalise() {
	c.Faces.Policy = strings.ToLower(strings.TrimSpace(c.Faces.Policy))
	c.Faces.Detector = strings.ToLower(strings.TrimSpace(c.Faces.Detector))
	c.Faces.Finder = strings.ToLower(strings.TrimSpace(c.Faces.Finder))
	c.Faces.Redact.Mode = strings.ToLower(strings.TrimSpace(c.Faces.Redact.Mode))
	c.Faces.Redact.Shape = strings.ToLower(strings.TrimSpace(c.Faces.Redact.Shape))
	c.Video.LivePhotos = strings.ToLower(strings.TrimSpace(c.Video.LivePhotos))
	c.Video.Audio = strings.ToLower(strings.TrimSpace(c.Video.Audio))
	for i, s := range c.Categories.Reject {
		c.Categories.Reject[i] = strings.ToLower(strings.TrimSpace(s))
	}
	for name, t := range c.Targets {
		t.Type = t.TypeName()
		t.Channel = strings.ToLower(strings.TrimSpace(t.Channel))
		approval, individual := ChannelDefaults(t.Channel)
		t.Approval = cmp.Or(strings.ToLower(strings.TrimSpace(t.Approval)), approval)
		t.Individual = cmp.Or(strings.ToLower(strings.TrimSpace(t.Individual)), individual)
		c.Targets[name] = t
	}
}

// Validate checks every value and returns all problems at once, each naming
// its key.
// CheckTargets is what a start checks of each target before it opens it
// (open.Options.Check, which open.New runs): beyond Validate, the password
// is there (password_file not empty, password_env set in this environment)
// and the ca_file holds a certificate. config check runs it; the other
// commands do not (they do not open the targets, and the coordinator's
// shell need not hold the service's password variable).
func (c *Config) CheckTargets() error {
	var errs keyerr.Errors
	for _, name := range c.TargetNames() {
		errs = append(errs, c.Targets[name].Options(name).Check()...)
	}
	return errs.Err()
}

func (c *Config) Validate() error {
	var errs keyerr.Errors
	bad := errs.Add
	intRange := func(key string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(key, "%d is out of range (%d to %d)", v, lo, hi)
		}
	}
	durRange := func(key string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			bad(key, "%s is out of range (%s to %s)", v, lo, hi)
		}
	}
	oneOf := func(key, v string, options ...string) {
		for _, o := range options {
			if v == o {
				return
			}
		}
		bad(key, "%q is not one of %s", v, strings.Join(options, ", "))
	}
	floatRange := func(key string, v, lo, hi float64) {
		if !(v >= lo && v <= hi) {
			bad(key, "%v is out of range (%v to %v)", v, lo, hi)
		}
	}
	// A setting's vocabulary and range are its owner's (detect, analyze,
	// redact, consent): config adds the key to the owner's message.
	owned := func(key string, err error) {
		if err != nil {
			bad(key, "%v", err)
		}
	}
	owned("faces.policy", detect.Policy(c.Faces.Policy).Validate())
	oneOf("faces.detector", c.Faces.Detector, detect.Detectors()...)
	// The detector's ranges are detect's: the same that detect/dlib refuses.
	intRange("faces.detect_max_side", c.Faces.DetectMaxSide, detect.MinDetectMaxSide, detect.MaxDetectMaxSide)
	intRange("faces.upsample", c.Faces.Upsample, detect.MinUpsample, detect.MaxUpsample)
	intRange("faces.cnn_max_side", c.Faces.CNNMaxSide, detect.MinCNNMaxSide, detect.MaxCNNMaxSide)
	floatRange("faces.threshold", c.Faces.Threshold, detect.MinThreshold, detect.MaxThreshold)
	floatRange("faces.margin", c.Faces.Margin, detect.MinMargin, detect.MaxMargin)
	intRange("faces.min_face_px", c.Faces.MinFacePx, detect.MinMinFacePx, detect.MaxMinFacePx)
	owned("faces.coverage_px", analyze.Config{CoveragePx: float64(c.Faces.CoveragePx), MinFacePx: float64(c.Faces.MinFacePx)}.Validate())
	if c.Faces.Finder == "blazeface" {
		// The finder before YuNet: its model is no longer installed.
		c.Faces.Finder = "yunet"
	}
	oneOf("faces.finder", c.Faces.Finder, "yunet", "none")
	intRange("faces.analysis_max_side", c.Faces.AnalysisMaxSide, 1024, 16384)
	intRange("faces.memory_mb", c.Faces.MemoryMB, 256, 16384)
	durRange("faces.time_budget", c.Faces.TimeBudget, time.Second, time.Hour)
	owned("faces.redact.mode", mask.Mode(c.Faces.Redact.Mode).Validate())
	owned("faces.redact.shape", mask.Shape(c.Faces.Redact.Shape).Validate())
	owned("faces.redact.mask_scale", mask.ValidMaskScale(c.Faces.Redact.MaskScale))
	if _, _, err := c.Consent.SchoolYearStartMD(); err != nil {
		bad("consent.school_year_start", "%v", err)
	}
	intRange("consent.max_remove", c.Consent.MaxRemove, 0, consent.MaxPeople)
	intRange("consent.backup_days", c.Consent.BackupDays, 1, 366)
	if err := consent.CheckColumns(c.Consent.Columns.Map()); err != nil {
		bad("consent.columns", "%v", err)
	}
	for key, v := range map[string]string{"inbox": c.Inbox, "state_dir": c.StateDir, "models_dir": c.ModelsDir} {
		if v == "" {
			bad(key, "must not be empty")
		}
	}
	intRange("workers", c.Workers, detect.MinWorkers, detect.MaxWorkers)
	c.checkFolders(bad)

	if len(c.Targets) == 0 {
		bad("targets", "at least one target is needed")
	}
	for _, name := range c.TargetNames() {
		t := c.Targets[name]
		key := "targets." + name
		if !validName(name) {
			bad(key, "target names use lower-case letters, digits, - and _")
		}
		errs = append(errs, t.Options(name).Validate()...)
		if !isChannel(t.Channel) {
			bad(key+".channel", "%q is not a channel (%s)", t.Channel, strings.Join(Channels, ", "))
		}
		if t.MaxSide != 0 {
			intRange(key+".max_side", t.MaxSide, minOutputSide, maxOutputSide)
		}
		if t.Quality != 0 {
			intRange(key+".quality", t.Quality, minQuality, maxQuality)
		}
		oneOf(key+".approval", t.Approval, ApprovalDirection, ApprovalNone)
		oneOf(key+".individual", t.Individual, IndividualClosedOnly, IndividualAllowed)
	}
	if c.DefaultTarget != "" {
		if _, ok := c.Targets[c.DefaultTarget]; !ok {
			bad("default_target", "%q is not one of the targets (%s)", c.DefaultTarget, strings.Join(c.TargetNames(), ", "))
		}
	}
	for i, s := range c.Categories.Reject {
		if s == "" {
			bad(fmt.Sprintf("categories.reject[%d]", i), "must not be empty")
		}
	}
	intRange("output.max_side", c.Output.MaxSide, minOutputSide, maxOutputSide)
	intRange("output.quality", c.Output.Quality, minQuality, maxQuality)
	intRange("limits.max_file_mb", c.Limits.MaxFileMB, 1, 500)
	intRange("limits.max_side", c.Limits.MaxSide, 256, 65535)
	if c.Limits.MaxPixels < 100_000 || c.Limits.MaxPixels > 500_000_000 {
		bad("limits.max_pixels", "%d is out of range (100000 to 500000000)", c.Limits.MaxPixels)
	}
	durRange("limits.decode_timeout", c.Limits.DecodeTimeout, time.Second, 10*time.Minute)
	errs = append(errs, keyerr.From(c.Watch.Inbox().Validate()).Under("watch")...)
	durRange("retention.originals", c.Retention.Originals, time.Hour, 2*366*24*time.Hour)
	durRange("retention.review", c.Retention.Review, time.Hour, 2*366*24*time.Hour)
	durRange("retention.journal", c.Retention.Journal, 24*time.Hour, 3*366*24*time.Hour)
	durRange("approval.expire", c.Approval.Expire, time.Hour, 366*24*time.Hour)
	floatRange("individual.min_share", c.Individual.MinShare, 0.05, 1)
	oneOf("video.live_photos", c.Video.LivePhotos, "skip", "publish")
	oneOf("video.audio", c.Video.Audio, "drop", "keep")
	intRange("video.max_seconds", c.Video.MaxSeconds, 1, 3600)
	intRange("video.max_file_mb", c.Video.MaxFileMB, 1, 8192)
	intRange("video.max_source_side", c.Video.MaxSourceSide, 256, 8192)
	intRange("video.max_source_fps", c.Video.MaxSourceFPS, 1, 240)
	intRange("video.max_streams", c.Video.MaxStreams, 1, 64)
	intRange("video.max_side", c.Video.MaxSide, 128, 3840)
	intRange("video.fps", c.Video.FPS, 1, 60)
	intRange("video.quality", c.Video.Quality, 0, 51)
	floatRange("video.analysis_fps", c.Video.AnalysisFPS, 0.5, 60)
	intRange("video.min_frames", c.Video.MinFrames, 1, 100)
	floatRange("video.min_share", c.Video.MinShare, 0.01, 1)
	durRange("video.timeout", c.Video.Timeout, 10*time.Second, 24*time.Hour)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// checkFolders refuses folders that overlap. A target inside state_dir (or
// state_dir inside a target) would publish the consent store's key, the
// consent store and the unredacted originals in held/ and quarantine/; a target inside the
// inbox (or the other way round) would take published photos as inputs, or
// publish inputs in place; state_dir inside the inbox would be synced to
// every teacher's tablet. Links in the paths are resolved as far as the
// folders exist, so a link cannot hide an overlap.
func (c *Config) checkFolders(bad func(key, format string, args ...any)) {
	if c.Inbox == "" || c.StateDir == "" {
		return
	}
	inbox, state := c.Inbox, c.StateDir
	if Within(state, inbox) {
		bad("state_dir", "state_dir (%s) is inside the photo folder (%s); keep the inbox, the state and the targets apart", c.StateDir, c.Inbox)
	}
	for _, name := range c.TargetNames() {
		p, ok := c.Targets[name].LocalFolder()
		if !ok {
			continue
		}
		switch {
		case Within(p, state) || Within(state, p):
			bad("targets."+name+".path", "%s and state_dir (%s) overlap: the key, the consent store and unredacted photos would be published; keep them apart", p, c.StateDir)
		case Within(p, inbox) || Within(inbox, p):
			bad("targets."+name+".path", "%s and the inbox (%s) overlap: published photos would be taken as inputs again; keep them apart", p, c.Inbox)
		}
	}
}

// Within reports whether path a is b or inside it, with the links in both
// resolved as far as their folders exist.
func Within(a, b string) bool {
	rel, err := filepath.Rel(realPath(b), realPath(a))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// realPath is p with the links in its longest existing prefix resolved.
func realPath(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for dir := p; ; dir = filepath.Dir(dir) {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		if filepath.Dir(dir) == dir {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (i > 0 && (r == '-' || r == '_'))
		if !ok {
			return false
		}
	}
	return true
}

func isChannel(s string) bool {
	for _, c := range Channels {
		if s == c {
			return true
		}
	}
	return false
}

// Warnings are what `config check` points out without refusing the
// configuration (a password file its group may read), one line each.
func (c *Config) Warnings() []string {
	var out []string
	for _, name := range c.TargetNames() {
		for _, p := range c.Targets[name].Options(name).Warnings() {
			out = append(out, p.Error())
		}
	}
	return out
}

// OutputOf is the output target name publishes with: its own max_side and
// quality where set, output's otherwise.
func (c *Config) OutputOf(name string) Output {
	out, t := c.Output, c.Targets[name]
	if t.MaxSide != 0 {
		out.MaxSide = t.MaxSide
	}
	if t.Quality != 0 {
		out.Quality = t.Quality
	}
	return out
}

// TargetNames returns the target names in a stable order.
func (c *Config) TargetNames() []string {
	names := make([]string, 0, len(c.Targets))
	for n := range c.Targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ResolveTarget picks the target a batch run publishes to: the one named, the
// default_target, or the only one.
func (c *Config) ResolveTarget(name string) (string, error) {
	if name == "" {
		name = c.DefaultTarget
	}
	if name == "" {
		if len(c.Targets) == 1 {
			return c.TargetNames()[0], nil
		}
		return "", fmt.Errorf("several targets are configured (%s): choose one with --target or set default_target",
			strings.Join(c.TargetNames(), ", "))
	}
	if _, ok := c.Targets[name]; !ok {
		return "", fmt.Errorf("no target %q in the configuration (targets: %s)", name, strings.Join(c.TargetNames(), ", "))
	}
	return name, nil
}

// IsConfigError reports whether err came from loading or validating.
func IsConfigError(err error) bool {
	return keyerr.From(err) != nil
}
