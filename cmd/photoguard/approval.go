package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/approval"
	"github.com/photoguard/photoguard/pipeline/state"
)

// openApprovals opens the store of photos waiting for approval in house
// h, sealing with the consent store's key. A house that does not write
// makes nothing: without an approval folder there is no store (nil).
func openApprovals(h *state.House) (*approval.Store, error) {
	if !h.Mode.Writes() {
		if _, err := os.Lstat(filepath.Join(h.Dir, state.Approval)); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	key, err := h.Key()
	if err != nil && (h.Mode.Writes() || !errors.Is(err, fs.ErrNotExist)) {
		return nil, err
	}
	aud, err := h.Audit()
	if err != nil {
		return nil, err
	}
	return approval.Open(h.Dir, key, aud)
}

// approver is the operating-system account of the person who runs the
// command: the one they logged in as (sudo's SUDO_USER, or the login uid
// the kernel keeps through sudo and runuser), with the account the command
// runs as when that differs ("jan (as photoguard)").
func approver() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	login := os.Getenv("SUDO_USER")
	if login == "" {
		if b, err := os.ReadFile("/proc/self/loginuid"); err == nil {
			if uid := strings.TrimSpace(string(b)); uid != "" && uid != "4294967295" {
				if u, err := user.LookupId(uid); err == nil {
					login = u.Username
				} else if _, err := strconv.Atoi(uid); err == nil {
					login = "uid " + uid
				}
			}
		}
	}
	if login != "" && login != name {
		return login + " (as " + name + ")"
	}
	return name
}

func pendingCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pending [--json]",
		Short: "List the photos that wait for the direction's approval",
		Long: `List the photos that wait for approval before they go to a target with
approval: direction (by default the website and social media): the short
hash, the group folder, since when, for which targets, how many faces are
shown and blurred there, and how long it has waited (a photo not answered
within approval.expire is rejected). Approved photos that are not published
yet (a target was down) are listed too: run photoguard approve again.

photoguard review --waiting writes a page with each photo as it would be
published and the commands to approve or reject it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return printPending(os.Stdout, cfg, asJSON, time.Now())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "write the list as JSON")
	return cmd
}

// pendingTarget and pendingPhoto are `pending --json`'s.
type pendingTarget struct {
	Target   string   `json:"target"`
	Channel  string   `json:"channel"`
	State    string   `json:"state"`
	Faces    int      `json:"faces"`
	Shown    int      `json:"shown"`
	Redacted int      `json:"blurred"`
	Pupils   []string `json:"pupils_shown,omitempty"`
	Output   string   `json:"output,omitempty"`
}

type pendingPhoto struct {
	Photo   string          `json:"photo"`
	SHA256  string          `json:"sha256"`
	Group   string          `json:"group,omitempty"`
	Since   time.Time       `json:"since"`
	Hours   int             `json:"waited_hours"`
	Expires time.Time       `json:"expires"`
	Targets []pendingTarget `json:"targets"`
}

func pendingList(cfg *config.Config, now time.Time) ([]pendingPhoto, error) {
	h, err := openHouse(cfg, state.ReadOnly)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	out := []pendingPhoto{}
	s, err := openApprovals(h)
	if s == nil || err != nil {
		return out, err
	}
	photos, err := s.List()
	for _, ph := range photos {
		if !ph.Open() {
			continue
		}
		pp := pendingPhoto{Photo: ph.Short(), SHA256: ph.SHA256, Group: ph.Group, Since: ph.At.Local(),
			Hours: int(now.Sub(ph.At).Hours()), Expires: ph.At.Add(cfg.Approval.Expire).Local()}
		for _, name := range ph.Names() {
			t := ph.Targets[name]
			if !t.Open() {
				continue
			}
			pp.Targets = append(pp.Targets, pendingTarget{Target: name, Channel: t.Channel, State: t.State, Faces: t.Faces,
				Shown: t.Shown, Redacted: t.Redacted, Pupils: t.Pupils, Output: t.Output})
		}
		out = append(out, pp)
	}
	return out, err
}

func printPending(w io.Writer, cfg *config.Config, asJSON bool, now time.Time) error {
	list, err := pendingList(cfg, now)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if eerr := enc.Encode(list); eerr != nil {
			return eerr
		}
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "no photos wait for approval")
		return err
	}
	fmt.Fprintf(w, "%s wait for approval:\n", plural(len(list), "photo"))
	fmt.Fprintf(w, "%-13s %-12s %-17s %-14s %-26s %s\n", "PHOTO", "GROUP", "SINCE", "TARGET", "FACES", "WAITING")
	for _, pp := range list {
		for _, t := range pp.Targets {
			faces := fmt.Sprintf("%d: %d shown, %d blurred", t.Faces, t.Shown, t.Redacted)
			left := pp.Expires.Sub(now)
			wait := fmt.Sprintf("%s (expires in %s)", waited(now.Sub(pp.Since)), waited(left))
			if t.State == approval.Approved {
				wait = "approved, not published yet: run photoguard approve " + pp.Photo
			}
			fmt.Fprintf(w, "%-13s %-12s %-17s %-14s %-26s %s\n", pp.Photo, shown(cmpOr(pp.Group, "-")), pp.Since.Format("2006-01-02 15:04"),
				t.Target, faces, wait)
		}
	}
	fmt.Fprintln(w, "\nLook at them: photoguard review --waiting. Then: photoguard approve HASH... or photoguard reject HASH... --reason \"...\"")
	return err
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// waited says a duration in days, or hours under two days.
func waited(d time.Duration) string {
	switch {
	case d < 0:
		return "0 hours"
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

type answerFlags struct {
	all    bool
	target string
	reason string
}

func approveCmd() *cobra.Command {
	var f answerFlags
	cmd := &cobra.Command{
		Use:   "approve HASH...|--all [--target T]",
		Short: "Approve photos that wait for the direction, and publish them",
		Long: `Approve photos that wait for approval (photoguard pending lists them; name them
by the short hash or any unambiguous prefix of at least 6 characters), for
every target they wait for, or only --target T. Each is decided again with
the consent store as it is now (consent withdrawn while it waited is
honoured: that face is blurred, or the photo is not published when the rules
say so), blurred, checked and published. The publication ledger records who
approved it (your login name) and when.

Approving again is harmless: a photo published already is not published
twice, and one whose target was down is published now. Safe while the
service runs.

Exit status: 0 when every photo named is published (now or before), 2 when
any is not, 1 for other errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.all == (len(args) > 0) {
				return errors.New("name the photos by their short hash (photoguard pending), or give --all")
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return runApprove(cmd.Context(), os.Stdout, cfg, args, f, approver(), time.Now())
		},
	}
	cmd.Flags().BoolVar(&f.all, "all", false, "every photo that waits (for --target, if given)")
	cmd.Flags().StringVar(&f.target, "target", "", "only for this target")
	_ = cmd.RegisterFlagCompletionFunc("target", completeTargets)
	return cmd
}

func rejectCmd() *cobra.Command {
	var f answerFlags
	cmd := &cobra.Command{
		Use:   "reject HASH... [--reason TEXT] [--target T]",
		Short: "Reject photos that wait for the direction: nothing is sent",
		Long: `Reject photos that wait for approval, for every target they wait for, or only
--target T: nothing is sent there, and the answer (who, when, the reason) is
recorded in the audit log. Write the reason without pupils' names. Once no
target waits for a photo, its kept original is deleted. Rejecting again is
harmless; a photo published already is not taken down by it (use
photoguard takedown).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.all == (len(args) > 0) {
				return errors.New("name the photos by their short hash (photoguard pending), or give --all")
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return runReject(os.Stdout, cfg, args, f, approver())
		},
	}
	cmd.Flags().BoolVar(&f.all, "all", false, "every photo that waits (for --target, if given)")
	cmd.Flags().StringVar(&f.target, "target", "", "only for this target")
	cmd.Flags().StringVar(&f.reason, "reason", "", "why (kept in the audit log; name no pupil)")
	_ = cmd.RegisterFlagCompletionFunc("target", completeTargets)
	return cmd
}

// answering is one photo and target to answer.
type answering struct {
	ph     *approval.Photo
	target string
}

// selectAnswers picks the open (photo, target) pairs the arguments name.
func selectAnswers(s *approval.Store, names []string, f answerFlags) ([]answering, error) {
	photos, err := s.List()
	if err != nil {
		return nil, err
	}
	var open []*approval.Photo
	for _, ph := range photos {
		if ph.Open() || len(names) > 0 {
			open = append(open, ph)
		}
	}
	if len(names) > 0 {
		if open, err = approval.Select(open, names); err != nil {
			return nil, err
		}
	}
	var out []answering
	for _, ph := range open {
		found := false
		for _, name := range ph.Names() {
			if f.target != "" && name != f.target {
				continue
			}
			found = true
			// Named photos are answered for every target they were for
			// (an answered one says so); --all takes the open ones only.
			if len(names) > 0 || ph.Targets[name].Open() {
				out = append(out, answering{ph, name})
			}
		}
		if !found && len(names) > 0 {
			return nil, fmt.Errorf("photo %s does not wait for target %s (it waits for %s)", ph.Short(), f.target, strings.Join(ph.Names(), ", "))
		}
	}
	return out, nil
}

// answerSet is what an answer command works with: the house, the store of
// what waits, and what names and f select.
type answerSet struct {
	h      *state.House
	s      *approval.Store
	todo   []answering
	unlock func()
}

// answers opens the house to write and the store, takes the answering
// lock and selects what names and f ask for; none says so on w. Close
// releases all of it.
func answers(w io.Writer, cfg *config.Config, names []string, f answerFlags) (a *answerSet, err error) {
	a = &answerSet{}
	if a.h, err = openHouse(cfg, state.Write); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.s, err = openApprovals(a.h); err != nil {
		return nil, err
	}
	if a.unlock, err = a.s.LockAnswers(); err != nil {
		return nil, err
	}
	if a.todo, err = selectAnswers(a.s, names, f); err != nil {
		return nil, err
	}
	if len(a.todo) == 0 {
		fmt.Fprintln(w, "no photos wait for approval")
	}
	return a, nil
}

// Close releases the answering lock and closes the house.
func (a *answerSet) Close() {
	if a.unlock != nil {
		a.unlock()
	}
	a.h.Close()
}

func runReject(w io.Writer, cfg *config.Config, names []string, f answerFlags, by string) error {
	as, err := answers(w, cfg, names, f)
	if err != nil {
		return err
	}
	defer as.Close()
	s, todo := as.s, as.todo
	for _, a := range todo {
		ans, err := s.Reject(a.ph.SHA256, a.target, by, f.reason)
		if err != nil {
			return err
		}
		if ans.Note != "" {
			fmt.Fprintf(w, "%s %s: %s\n", a.ph.Short(), a.target, ans.Note)
			continue
		}
		fmt.Fprintf(w, "%s %s: rejected; nothing is sent\n", a.ph.Short(), a.target)
	}
	return nil
}

func runApprove(ctx context.Context, w io.Writer, cfg *config.Config, names []string, f answerFlags, by string, now time.Time) error {
	if f.target != "" {
		if _, ok := cfg.Targets[f.target]; !ok {
			return fmt.Errorf("--target %q is not one of the targets (%s)", f.target, strings.Join(cfg.TargetNames(), ", "))
		}
	}
	as, err := answers(w, cfg, names, f)
	if err != nil {
		return err
	}
	defer as.Close()
	s, todo := as.s, as.todo
	if len(todo) == 0 {
		return nil
	}
	var targets []string
	for _, a := range todo {
		if _, ok := cfg.Targets[a.target]; !ok {
			return fmt.Errorf("photo %s waits for target %s, which is not configured any more; reject it", a.ph.Short(), a.target)
		}
		if !slices.Contains(targets, a.target) {
			targets = append(targets, a.target)
		}
	}
	log, err := newLogger(slog.LevelWarn)
	if err != nil {
		return err
	}
	res, err := resourcesOver(cfg, as.h, targets)
	if err != nil {
		return err
	}
	defer res.Close()
	if err := s.CleanStaging(res.journal); err != nil {
		log.Warn("approval: cleaning what an interrupted approve left", "err", err)
	}
	failed := 0
	for _, a := range todo {
		mode := runMode{targets: []string{a.target}, wipe: true, batch: true}
		proc := func(ap pipeline.Approval) (approval.Processor, error) {
			p, err := res.pipeline(cfg, log, mode)
			if err != nil {
				return nil, err
			}
			// Approved: this target publishes it now.
			return p.With(func(o *pipeline.Options) {
				for _, d := range o.Destinations {
					d.Approval, d.Approved = false, &ap
				}
			})
		}
		ans, err := s.Approve(ctx, a.ph.SHA256, a.target, pipeline.Approval{By: by, At: now}, proc)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(w, "%s %s: %s\n", a.ph.Short(), a.target, shown(pipeline.ReasonOf(err)))
		case ans.State == approval.Published && ans.Note == "":
			fmt.Fprintf(w, "%s %s: approved and published as %s\n", a.ph.Short(), a.target, ans.Output)
		case ans.State == approval.Published:
			fmt.Fprintf(w, "%s %s: %s\n", a.ph.Short(), a.target, ans.Note)
		default:
			failed++
			fmt.Fprintf(w, "%s %s: %s\n", a.ph.Short(), a.target, shown(cmpOr(ans.Note, ans.State)))
		}
	}
	if failed > 0 {
		return exitError{exitAttention}
	}
	return nil
}
