package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
)

func explainCmd() *cobra.Command {
	var target, out string
	cmd := &cobra.Command{
		Use:   "explain PHOTO",
		Short: "Show the faces in a photo, who they are nearest to, and what each target would do with them",
		Long: `Run the photo through every step a batch would, without publishing, moving or
recording anything, and show a table of the faces found: the nearest enrolled
people with their distances, and per target whether the face is shown or
redacted, and why. With --out, write an annotated copy (boxes, pupil ids,
distances; green = shown, red = redacted) for the ICT coordinator. The
annotated copy shows every face unredacted: never publish it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return explain(cmd.Context(), os.Stdout, cfg, args[0], target, out)
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "only this target (default: every target)")
	cmd.Flags().StringVar(&out, "out", "", "write an annotated PNG here")
	return cmd
}

func explain(ctx context.Context, w io.Writer, cfg *config.Config, photo, target, out string) error {
	targets := cfg.TargetNames()
	if target != "" {
		t, err := cfg.ResolveTarget(target)
		if err != nil {
			return err
		}
		targets = []string{t}
	}
	if out != "" {
		// Refused before any work: the annotated copy shows every face.
		if err := checkPrivateOut(cfg, out, privatePNG); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(photo)
	if err != nil {
		return err
	}
	// A file that is not there (or a link, a folder) is a usage error, not
	// a photo "not ready yet".
	if fi, err := os.Lstat(abs); err != nil {
		return fmt.Errorf("%s: %w", shown(photo), errors.Unwrap(err))
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file (links are never followed)", shown(photo))
	}
	log, err := newLogger(slog.LevelWarn)
	if err != nil {
		return err
	}
	// Explain is Process without the commit: what a batch would do.
	st, err := openPipeline(cfg, log, runMode{targets: targets, dryRun: true, batch: true})
	if err != nil {
		return err
	}
	defer st.Close()
	j, jobErr := st.p.Explain(ctx, filepath.Dir(abs), abs)

	fmt.Fprintf(w, "%s\n", shown(photo))
	if j.SHA256 != "" {
		fmt.Fprintf(w, "  sha256 %s", j.SHA256)
		if j.Image != nil {
			fmt.Fprintf(w, ", analysed at %dx%d", j.Image.Bounds().Dx(), j.Image.Bounds().Dy())
		}
		fmt.Fprintln(w)
	}
	if j.Category != "" {
		fmt.Fprintf(w, "  category %q: never published\n", shown(j.Category))
	}
	if jobErr != nil {
		fmt.Fprintf(w, "  %s: %s\n", pipeline.KindOf(jobErr), shown(pipeline.ReasonOf(jobErr)))
	}
	if len(j.Faces) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := "\nFACE\tBOX\tWIDTH\tFOUND\tNEAREST (pupil id: distance)\tMATCH"
		for _, d := range j.Deliveries {
			head += "\t" + strings.ToUpper(d.Dest.Name) + " (" + d.Dest.Channel + ")"
		}
		fmt.Fprintln(tw, head)
		for i, f := range j.Faces {
			var near []string
			var m detect.Match
			if i < len(j.Matches) {
				m = j.Matches[i]
			}
			for k, c := range m.Nearest {
				if k == 3 {
					break
				}
				near = append(near, fmt.Sprintf("%s: %.2f", c.ID, c.Distance))
			}
			match := m.ID
			if match == "" {
				match = "- (" + m.Reason() + ")"
			} else if m.Detail != "" {
				match += " (" + m.Detail + ")"
			}
			row := fmt.Sprintf("F%d\t%d,%d-%d,%d\t%d px\t%s\t%s\t%s", i+1, f.Rect.Min.X, f.Rect.Min.Y, f.Rect.Max.X, f.Rect.Max.Y,
				f.Rect.Dx(), foundScore(f), strings.Join(near, ", "), match)
			for _, d := range j.Deliveries {
				if i < len(d.Decisions) {
					dec := d.Decisions[i]
					verb := "redact"
					if dec.Show {
						verb = "show"
					}
					row += "\t" + verb + ": " + dec.Reason
				} else {
					row += "\t-"
				}
			}
			fmt.Fprintln(tw, row)
		}
		tw.Flush()
	} else if j.Image != nil {
		fmt.Fprintln(w, "  no faces found")
	}
	fmt.Fprintf(w, "\nthresholds: distance <= %.2f, margin >= %.2f, face >= %d px; policy %s\n",
		cfg.Faces.Threshold, cfg.Faces.Margin, cfg.Faces.MinFacePx, cfg.Faces.Policy)
	if j.Group != "" {
		fmt.Fprintf(w, "group %s (from the folder): a face is shown only as a pupil of %s; the margin (%.2f here) is measured against every enrolled pupil\n",
			j.Group, j.Group, j.Margin)
	} else if len(j.Faces) > 0 {
		fmt.Fprintln(w, "no group folder: a face may be shown as any enrolled pupil of the school")
	}
	for _, d := range j.Deliveries {
		switch {
		case d.Err != nil:
			fmt.Fprintf(w, "%s: %s (%s)\n", d.Dest.Name, "not published", shown(pipeline.ReasonOf(d.Err)))
		case jobErr != nil:
			fmt.Fprintf(w, "%s: not published\n", d.Dest.Name)
		case d.Waiting && d.Image != nil:
			fmt.Fprintf(w, "%s: would wait for the direction's approval, then be published at %dx%d (output passes the metadata and face checks)\n",
				d.Dest.Name, d.Image.Rect.Dx(), d.Image.Rect.Dy())
		case d.Image != nil:
			fmt.Fprintf(w, "%s: would be published at %dx%d (output passes the metadata and face checks)\n",
				d.Dest.Name, d.Image.Rect.Dx(), d.Image.Rect.Dy())
		default:
			fmt.Fprintf(w, "%s: would be published (output passes the metadata and face checks)\n", d.Dest.Name)
		}
	}
	if out != "" && j.Image != nil {
		if err := writeAnnotated(cfg, out, j); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nannotated copy: %s (shows every face unredacted: for your eyes only, never publish it)\n", shown(out))
	}
	// Exit status 2, as batch: a photo that would be held or quarantined, or
	// that could not be read now, needs a look. Rejected by policy is an
	// answer, not a problem.
	if k := pipeline.KindOf(jobErr); jobErr != nil && k != pipeline.KindReject {
		return exitError{exitAttention}
	}
	for _, d := range j.Deliveries {
		if d.Err != nil && pipeline.KindOf(d.Err) != pipeline.KindReject {
			return exitError{exitAttention}
		}
	}
	return nil
}

// foundScore is the finder's confidence in a face for the explain table:
// "0.87", or "0.23 (low)" for a face found at a low score (small, turned,
// blurred or in shadow; or not a face at all, and redacted all the same).
func foundScore(f detect.Face) string {
	switch {
	case f.Score <= 0:
		return "-"
	case f.Score < detect.LowScore:
		return fmt.Sprintf("%.2f (low)", f.Score)
	}
	return fmt.Sprintf("%.2f", f.Score)
}

var (
	green = color.NRGBA{0, 200, 60, 255}
	red   = color.NRGBA{230, 30, 30, 255}
)

// writeAnnotated draws the boxes and labels on a copy of the analysed image.
// A face is green when every target shows it, red otherwise.
func writeAnnotated(cfg *config.Config, path string, j *pipeline.Job) error {
	img := image.NewNRGBA(j.Image.Bounds())
	draw.Draw(img, img.Bounds(), j.Image, j.Image.Bounds().Min, draw.Src)
	for i, f := range j.Faces {
		col := green
		for _, d := range j.Deliveries {
			if i >= len(d.Decisions) || !d.Decisions[i].Show {
				col = red
			}
		}
		thick := max(2, f.Rect.Dx()/40)
		for k := 0; k < thick; k++ {
			rect(img, f.Rect.Inset(-k), col)
		}
		label := fmt.Sprintf("F%d", i+1)
		if i < len(j.Matches) {
			m := j.Matches[i]
			if len(m.Nearest) > 0 {
				label += fmt.Sprintf(" %s %.2f", m.Nearest[0].ID, m.Nearest[0].Distance)
			}
			if m.ID == "" {
				label += " ?"
			}
		}
		text(img, f.Rect.Min.X, f.Rect.Min.Y-4-thick, label, col)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return writePrivate(cfg, path, buf.Bytes(), privatePNG)
}

func rect(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	r = r.Intersect(img.Bounds())
	for x := r.Min.X; x < r.Max.X; x++ {
		img.SetNRGBA(x, r.Min.Y, c)
		img.SetNRGBA(x, r.Max.Y-1, c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.SetNRGBA(r.Min.X, y, c)
		img.SetNRGBA(r.Max.X-1, y, c)
	}
}

// text writes s with a dark backing so that it reads on any photo.
func text(img *image.NRGBA, x, y int, s string, c color.NRGBA) {
	face := basicfont.Face7x13
	if y < 13 {
		y = 13
	}
	bg := image.Rect(x-1, y-12, x+7*len(s)+1, y+3)
	draw.Draw(img, bg.Intersect(img.Bounds()), image.NewUniform(color.NRGBA{0, 0, 0, 200}), image.Point{}, draw.Over)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
