package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/state"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
)

// Folder is the folder below state_dir that holds the records.
const Folder = state.Review

// Version of the record format.
const Version = 1

// Preview sizes (long side, pixels).
const (
	InputPreviewSide  = 480
	OutputPreviewSide = 320
	CropSide          = 400
	// WaitingPreviewSide: the output of a photo that waits for approval,
	// as it would be published, for the direction's page.
	WaitingPreviewSide = 1024
	previewQuality     = 80
)

// Record is what was decided about one photo.
type Record struct {
	Version int       `json:"version"`
	SHA256  string    `json:"sha256"`
	Short   string    `json:"short"`
	At      time.Time `json:"at"`
	// Input is the path below the inbox (or batch folder). It may hold a
	// child's name: pages show it only with --names.
	Input    string `json:"input"`
	Category string `json:"category,omitempty"`
	// Width and Height are the analysed image's (face boxes are in it).
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Preview is the annotated input preview's file name ("" when the photo
	// was not decoded).
	Preview string `json:"preview,omitempty"`
	// Strip is a video's strip: a few of its analysed frames, spread over
	// the clip, with the tracks boxed (its faces are its tracks).
	Strip   []StripFrame `json:"strip,omitempty"`
	Faces   []Face       `json:"faces,omitempty"`
	Targets []Target     `json:"targets"`

	dir string // the day folder it was read from
}

// Face is one face, numbered 1..N in detect.SortFaces order (as explain,
// the reports and `--face N` number them).
type Face struct {
	N     int    `json:"n"`
	Box   [4]int `json:"box"` // x0, y0, x1, y1 in Width x Height
	Width int    `json:"width_px"`
	// Score is the finder's confidence (0..1; 0 when unknown). Below
	// detect.LowScore the face was found at a low score.
	Score float64 `json:"score,omitempty"`
	// Match is the confidently matched pupil id, "" with Why when none.
	Match string `json:"match,omitempty"`
	Why   string `json:"why,omitempty"`
	// Nearest are up to three enrolled pupils by distance, nearest first.
	Nearest []Candidate `json:"nearest,omitempty"`
	// Crop is the file name of the face with room around it at the
	// analysis's resolution (at most CropSide), from which `enroll --from`
	// and `correct` describe the face again once the input is gone; "" for
	// a face that could not be described.
	Crop string `json:"crop,omitempty"`
}

// StripFrame is one frame of a video's strip: its preview's file name and
// its time in the clip.
type StripFrame struct {
	Image   string  `json:"image"`
	Seconds float64 `json:"seconds"`
}

// Candidate is a pupil id and its distance to a face.
type Candidate struct {
	ID       string  `json:"id"`
	Distance float64 `json:"distance"`
}

// Target is the photo's outcome for one target, with each face's decision.
type Target struct {
	Name    string `json:"name"`
	Channel string `json:"channel,omitempty"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	// Output is the published name; Thumb the output preview's file name
	// (published photos, and those waiting for approval).
	Output    string     `json:"output,omitempty"`
	Thumb     string     `json:"thumb,omitempty"`
	Decisions []Decision `json:"decisions,omitempty"`
}

// Decision is one face on one target.
type Decision struct {
	Show   bool   `json:"show"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// Held reports whether the photo was held for any target.
func (r *Record) Held() bool { return r.anyOutcome(string(pipeline.Held)) }

// Published reports whether the photo was published to any target.
func (r *Record) Published() bool { return r.anyOutcome(string(pipeline.Published)) }

func (r *Record) anyOutcome(o string) bool {
	for _, t := range r.Targets {
		if t.Outcome == o {
			return true
		}
	}
	return false
}

// AnyUnknown reports whether any face was matched to nobody.
func (r *Record) AnyUnknown() bool {
	for _, f := range r.Faces {
		if f.Match == "" {
			return true
		}
	}
	return false
}

// AnyShown reports whether any target shows any face.
func (r *Record) AnyShown() bool {
	for _, t := range r.Targets {
		for _, d := range t.Decisions {
			if d.Show {
				return true
			}
		}
	}
	return false
}

// Image reads one of the record's previews (Preview or a Thumb).
func (r *Record) Image(name string) ([]byte, error) {
	if name == "" || name != filepath.Base(name) || !strings.HasPrefix(name, r.Short) {
		return nil, fmt.Errorf("review: %q is not a preview of %s", name, r.Short)
	}
	return fsync.ReadRegular(filepath.Join(r.dir, name), 16<<20)
}

// Writer writes records into a state folder. It implements
// pipeline.ReviewSink.
type Writer struct {
	dir string
	// Now is the clock (tests replace it).
	Now func() time.Time
}

// New returns a Writer for stateDir.
func New(stateDir string) *Writer {
	return &Writer{dir: filepath.Join(stateDir, Folder), Now: time.Now}
}

var _ pipeline.ReviewSink = (*Writer)(nil)

// Record writes the record of a settled job: previews first, the JSON last,
// so that a record's previews exist when the record does.
func (w *Writer) Record(j *pipeline.Job, items []pipeline.Item) error {
	if len(j.SHA256) < 12 {
		return errors.New("review: the photo was not hashed")
	}
	now := w.Now()
	rec := Build(j, items, now)
	day := filepath.Join(w.dir, now.Local().Format("2006-01-02"))
	if err := privateDir(w.dir); err != nil {
		return err
	}
	if err := privateDir(day); err != nil {
		return err
	}
	if j.Image != nil {
		data, err := encode.JPEG(Annotate(j.Image, j.Faces, rec.Colours(), InputPreviewSide), previewQuality)
		if err != nil {
			return fmt.Errorf("review: preview: %w", err)
		}
		rec.Preview = rec.Short + "-in.jpg"
		if err := write(day, rec.Preview, data); err != nil {
			return err
		}
	}
	if err := writeStrip(day, rec, j); err != nil {
		return err
	}
	if err := writeCrops(day, rec, j); err != nil {
		return err
	}
	for k, d := range j.Deliveries {
		if !(d.Published || d.Waiting) || d.Image == nil || k >= len(rec.Targets) {
			continue
		}
		side := OutputPreviewSide
		if d.Waiting {
			side = WaitingPreviewSide // the direction judges it from this
		}
		data, err := encode.JPEG(decode.Fit(d.Image, side), previewQuality)
		if err != nil {
			return fmt.Errorf("review: output preview: %w", err)
		}
		rec.Targets[k].Thumb = fmt.Sprintf("%s-out-%d.jpg", rec.Short, k)
		if err := write(day, rec.Targets[k].Thumb, data); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return write(day, rec.Short+".json", append(data, '\n'))
}

// writeStrip writes a video's strip: each frame with the tracks on it
// boxed in their colour and numbered as the faces are. The frames are the
// analysed ones, unredacted, as a photo's input preview is.
func writeStrip(day string, rec *Record, j *pipeline.Job) error {
	colours := rec.Colours()
	for k, f := range j.VideoStrip() {
		faces := make([]detect.Face, len(f.Boxes))
		for t, b := range f.Boxes {
			faces[t].Rect = b
		}
		data, err := encode.JPEG(Annotate(f.Image, faces, colours, pipeline.StripSide), previewQuality)
		if err != nil {
			return fmt.Errorf("review: video strip: %w", err)
		}
		sf := StripFrame{Image: fmt.Sprintf("%s-strip-%d.jpg", rec.Short, k), Seconds: math.Round(f.At.Seconds()*10) / 10}
		if err := write(day, sf.Image, data); err != nil {
			return err
		}
		rec.Strip = append(rec.Strip, sf)
	}
	return nil
}

// writeCrops keeps each described face with room around it, from the
// pixels the analysis described it from.
func writeCrops(day string, rec *Record, j *pipeline.Job) error {
	a := j.Analysis
	if j.Original == nil || a == nil || len(a.Faces) != len(rec.Faces) {
		return nil
	}
	for i, f := range a.Faces {
		if f.NoDescriptor {
			continue
		}
		r := f.Rect
		m := max(r.Dx(), r.Dy()) * 3 / 4
		r = r.Inset(-m).Intersect(j.Original.Rect)
		crop := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
		draw.Draw(crop, crop.Rect, j.Original, r.Min, draw.Src)
		data, err := encode.JPEG(decode.Fit(crop, CropSide), 92)
		if err != nil {
			return fmt.Errorf("review: face crop: %w", err)
		}
		rec.Faces[i].Crop = fmt.Sprintf("%s-face-%d.jpg", rec.Short, i+1)
		if err := write(day, rec.Faces[i].Crop, data); err != nil {
			return err
		}
	}
	return nil
}

// Build makes the record of a job (without previews).
func Build(j *pipeline.Job, items []pipeline.Item, at time.Time) *Record {
	rec := &Record{Version: Version, SHA256: j.SHA256, Short: j.SHA256[:12], At: at.UTC().Truncate(time.Second),
		Input: j.Rel, Category: j.Category}
	if j.Image != nil {
		rec.Width, rec.Height = j.Image.Rect.Dx(), j.Image.Rect.Dy()
	}
	for i, f := range j.Faces {
		fr := Face{N: i + 1, Box: [4]int{f.Rect.Min.X, f.Rect.Min.Y, f.Rect.Max.X, f.Rect.Max.Y}, Width: f.Rect.Dx(),
			Score: math.Round(float64(f.Score)*100) / 100}
		if i < len(j.Matches) {
			m := j.Matches[i]
			// Why with what was measured ("next person 0.12 further, 0.30
			// needed"): the coordinator checks the numbers.
			fr.Match, fr.Why = m.ID, m.Reason()
			for k, c := range m.Nearest {
				if k == 3 {
					break
				}
				fr.Nearest = append(fr.Nearest, Candidate{ID: c.ID, Distance: round3(c.Distance)})
			}
		}
		rec.Faces = append(rec.Faces, fr)
	}
	byTarget := map[string]pipeline.Item{}
	for _, it := range items {
		byTarget[it.Target] = it
	}
	for _, d := range j.Deliveries {
		t := Target{Name: d.Dest.Name, Channel: d.Dest.Channel}
		if it, ok := byTarget[d.Dest.Name]; ok {
			t.Outcome, t.Reason, t.Output = string(it.Outcome), it.Reason, it.Output
		}
		for _, dec := range d.Decisions {
			t.Decisions = append(t.Decisions, Decision{Show: dec.Show, ID: dec.ID, Reason: dec.Reason})
		}
		rec.Targets = append(rec.Targets, t)
	}
	return rec
}

func round3(v float64) float64 {
	if v != v || v > 1e6 {
		return 9.999 // NaN or +Inf: "far"; JSON has neither
	}
	return float64(int64(v*1000+0.5)) / 1000
}

// Colours says per face whether every target shows it (Shown), none
// (Redacted, or Unclear for a face that could not be described) or some
// (Mixed).
func (r *Record) Colours() []Colour {
	out := make([]Colour, len(r.Faces))
	for i, f := range r.Faces {
		shown, total := 0, 0
		for _, t := range r.Targets {
			if i < len(t.Decisions) {
				total++
				if t.Decisions[i].Show {
					shown++
				}
			}
		}
		switch {
		case total > 0 && shown == total:
			out[i] = Shown
		case shown > 0:
			out[i] = Mixed
		case f.Why == detect.WhyNotDescribed:
			out[i] = Unclear
		default:
			out[i] = Redacted
		}
	}
	return out
}

// privateDir makes dir (0700) unless it exists, and refuses a link or a
// folder group or others can reach.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("review: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("review: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("review: %s is a link or not a folder; photoguard does not write through it", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("review: %s has mode %04o; run: chmod 700 %s", dir, st.Mode().Perm(), dir)
	}
	return nil
}

func write(dir, name string, data []byte) error {
	err := fsync.WriteFile(dir, name, data, 0o600, func(st fs.FileInfo) bool { return st.Mode().IsRegular() }, nil)
	if err != nil {
		return fmt.Errorf("review: writing %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// Load reads every record of the days from since (local date) on, oldest
// first. A missing review folder is no records; a damaged record is an
// error naming its file.
func Load(stateDir string, since time.Time) ([]*Record, error) {
	root := filepath.Join(stateDir, Folder)
	days, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	first := since.Local().Format("2006-01-02")
	var out []*Record
	for _, d := range days {
		if !d.IsDir() || len(d.Name()) != 10 || d.Name() < first {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if !f.Type().IsRegular() || !strings.HasSuffix(f.Name(), ".json") || strings.HasPrefix(f.Name(), ".") {
				continue
			}
			r, err := readRecord(filepath.Join(root, d.Name(), f.Name()))
			if err != nil {
				return nil, err
			}
			if since.IsZero() || !r.At.Before(since) {
				out = append(out, r)
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].At.Before(out[b].At) })
	return out, nil
}

// Find returns the newest record of the photo with content hash sha (or a
// prefix of at least 8 hex digits of it).
func Find(stateDir, sha string) (*Record, error) {
	sha = strings.ToLower(sha)
	if len(sha) < 8 {
		return nil, fmt.Errorf("review: %q is too short a photo hash (give at least 8 hex digits)", sha)
	}
	all, err := Load(stateDir, time.Time{})
	if err != nil {
		return nil, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if strings.HasPrefix(all[i].SHA256, sha) {
			return all[i], nil
		}
	}
	return nil, fmt.Errorf("review: no record of photo %s in %s", sha, filepath.Join(stateDir, Folder))
}

func readRecord(path string) (*Record, error) {
	data, err := fsync.ReadRegular(path, 4<<20)
	if err != nil {
		return nil, fmt.Errorf("review: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("review: %s is not a review record: %v", path, err)
	}
	if r.Version != Version || len(r.SHA256) != 64 || r.Short != r.SHA256[:12] {
		return nil, fmt.Errorf("review: %s is not a review record of version %d", path, Version)
	}
	r.dir = filepath.Dir(path)
	return &r, nil
}
