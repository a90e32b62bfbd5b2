package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/state"
	"github.com/photoguard/photoguard/pipeline/target"
)

func takedownCmd() *cobra.Command {
	var req ledger.Request
	var sha string
	cmd := &cobra.Command{
		Use:   "takedown [PHOTO...] [--pupil ID] [--channel C]",
		Short: "Remove published photos from every target (a parent's request)",
		Long: `Remove published photos from every target they were published to, and make
sure a copy delivered again is published with the pupil redacted.

Name the photos as you have them: a published file (publish/website/
20261201-69a2f5949b21.jpg), its output name, the short hash that
photoguard status and the output names show (any unambiguous prefix of at
least 6 characters; an ambiguous one is refused with the candidates), or the
original file. Or give --pupil ID alone: every published photo in which that
pupil is visible (see photoguard published --pupil ID). --channel limits it
to the targets of one channel.

With --pupil, the pupil's objection to each photo is recorded: a copy
delivered again is published with them redacted. Without it, every pupil
visible in the photo is recorded as objecting. What a target cannot delete
is listed for removal by hand (exit status 2). Every takedown is recorded in
the publication ledger and the audit log. --dry-run lists what would go.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			req.Photos = args
			if sha != "" {
				req.Photos = append(req.Photos, sha)
			}
			return runTakedown(cmd.Context(), os.Stdout, cfg, req)
		},
	}
	cmd.Flags().StringVar(&req.Pupil, "pupil", "", "every published photo in which this pupil id is visible (with photos: that pupil's objection to them)")
	cmd.Flags().StringVar(&req.Channel, "channel", "", "only the targets of this channel ("+strings.Join(config.Channels, ", ")+")")
	cmd.Flags().BoolVar(&req.DryRun, "dry-run", false, "list what would be taken down; change nothing")
	cmd.Flags().StringVar(&sha, "sha", "", "the photo's hash (the same as giving it as an argument)")
	return cmd
}

// photoSHA256 identifies a photo by its content: the sha256 of the one file
// in files, or the --sha value (lower-cased; the journal and the store check
// it). Exactly one of the two must be given, or the error is usage.
func photoSHA256(files []string, sha, usage string) (string, error) {
	switch {
	case len(files) == 1 && sha == "":
		data, err := os.ReadFile(files[0])
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		return hex.EncodeToString(sum[:]), nil
	case len(files) == 0 && sha != "":
		return strings.ToLower(strings.TrimSpace(sha)), nil
	}
	return "", errors.New(usage)
}

// takedown takes down one photo (a file, name or hash), recording pupil's
// objection when pupil is given.
func takedown(ctx context.Context, w io.Writer, cfg *config.Config, photo, pupil string) error {
	return runTakedown(ctx, w, cfg, ledger.Request{Photos: []string{photo}, Pupil: pupil})
}

func runTakedown(ctx context.Context, w io.Writer, cfg *config.Config, req ledger.Request) error {
	if req.Channel != "" && !consent.KnownChannel(req.Channel) {
		return fmt.Errorf("--channel %q is not a channel (%s)", req.Channel, strings.Join(config.Channels, ", "))
	}
	h, err := openHouse(cfg, modeOf(req.DryRun))
	if err != nil {
		return err
	}
	defer h.Close()
	td, err := openTakedown(cfg, h)
	if err != nil {
		return err
	}
	res, err := td.Run(ctx, req)
	if err != nil {
		if res != nil {
			warnLedger(w, res.Ledger)
		}
		var amb *ledger.AmbiguousError
		if errors.As(err, &amb) {
			return fmt.Errorf("%w\nnothing was taken down", err)
		}
		return err
	}
	printTakedown(w, req, res)
	// Lines of the ledger that were skipped may name photos this takedown
	// did not reach: said after what it did, with exit status 2.
	if warnLedger(w, res.Ledger) || len(res.Manual) > 0 || res.Swept != nil && len(res.Swept.Problems) > 0 {
		return exitError{exitAttention}
	}
	return nil
}

// openTakedown wires a Takedowner to the configuration over house h: the
// ledger, the journal, the targets and, unless it is a dry run (a house
// that does not write), the consent store and the audit log.
func openTakedown(cfg *config.Config, h *state.House) (*ledger.Takedowner, error) {
	key, err := h.LedgerKey()
	if err != nil {
		return nil, err
	}
	td := &ledger.Takedowner{StateDir: h.Dir, Key: key,
		NotInStore: func(err error) bool { return errors.Is(err, consent.ErrNotInStore) },
		Target: func(name string) (target.Target, error) {
			t, ok := cfg.Targets[name]
			if !ok {
				return nil, errors.New("it is not in the configuration any more")
			}
			return openTarget(name, t)
		}}
	if td.Journal, err = h.Journal(); err != nil || !h.Mode.Writes() {
		return td, err
	}
	if td.Ledger, err = h.Ledger(); err != nil {
		return nil, err
	}
	aud, err := h.Audit()
	if err != nil {
		return nil, err
	}
	store, err := h.Store()
	if err != nil {
		return nil, err
	}
	td.Audit, td.Objections = aud, store
	return td, nil
}

func printTakedown(w io.Writer, req ledger.Request, res *ledger.Result) {
	printLeftovers(w, req, res)
	if len(res.Selected) == 0 {
		switch {
		case req.Pupil != "" && len(req.Photos) == 0:
			fmt.Fprintf(w, "no published photo shows %s%s: nothing to take down\n", req.Pupil, onChannel(req.Channel))
		default:
			fmt.Fprintf(w, "nothing to take down%s\n", onChannel(req.Channel))
		}
		return
	}
	if req.DryRun {
		fmt.Fprintf(w, "would take down (dry run: nothing changed) %s:\n", plural(len(res.Selected), "output"))
		for _, r := range res.Selected {
			fmt.Fprintf(w, "  %s\n", describeOutput(r))
		}
		return
	}
	for _, r := range res.Removed {
		fmt.Fprintf(w, "removed    %s\n", describeOutput(r))
	}
	for _, o := range res.Objected {
		fmt.Fprintf(w, "objection  %s is redacted in photo %s if it is delivered again\n", o.ID, o.SHA256[:12])
	}
	for _, id := range res.Unknown {
		fmt.Fprintf(w, "not in the consent store: %s (not recognised any more, so redacted under the consent policy; nothing recorded)\n", id)
	}
	if res.Republish < len(res.Removed) {
		fmt.Fprintf(w, "%s stay recorded as published: a copy delivered again is a duplicate and is not published\n",
			plural(len(res.Removed)-res.Republish, "removed output"))
	}
	if len(res.Manual) > 0 {
		fmt.Fprintf(w, "\ncould not be removed: remove %s by hand, then run this takedown again:\n", map[bool]string{true: "it", false: "them"}[len(res.Manual) == 1])
		for _, m := range res.Manual {
			fmt.Fprintf(w, "  %s\n      %s\n", describeOutput(m.Record), m.Problem)
		}
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

// printLeftovers says what became of the temporary uploads of the photos
// taken down (uploads a slow share took after photoguard gave up on them).
func printLeftovers(w io.Writer, req ledger.Request, res *ledger.Result) {
	if len(res.Leftovers) == 0 {
		return
	}
	if req.DryRun {
		fmt.Fprintf(w, "would remove %s (an upload the target may have taken after photoguard gave up on it):\n", plural(len(res.Leftovers), "temporary upload"))
		for _, l := range res.Leftovers {
			fmt.Fprintf(w, "  %-12s %s  of %s\n", l.Target, shown(l.Temp), shown(l.Name))
		}
		return
	}
	if res.Swept == nil {
		return
	}
	for _, l := range res.Swept.Removed {
		fmt.Fprintf(w, "removed    %-12s %s (a temporary upload of %s; the service checks again that nothing lands later)\n", l.Target, shown(l.Temp), shown(l.Name))
	}
	for _, p := range res.Swept.Problems {
		fmt.Fprintf(w, "could not remove a temporary upload: %s\n", shown(p))
	}
	if res.Swept.Waiting > 0 {
		fmt.Fprintf(w, "%s still being sent by the service: run this takedown again in a few minutes\n", plural(res.Swept.Waiting, "upload"))
	}
}

// describeOutput is one output on one line: target, name, reference when it
// is not the name, and who is visible in it (ids).
func describeOutput(r *ledger.Record) string {
	s := fmt.Sprintf("%-12s %s", r.Target, r.Name)
	if r.Ref != "" && r.Ref != r.Name {
		s += " (ref " + shown(r.Ref) + ")"
	}
	switch {
	case r.Legacy:
		s += "  shows: not recorded (published before the ledger)"
	case len(r.Pupils) > 0:
		s += "  shows: " + strings.Join(r.Pupils, ", ")
	}
	return s
}

func onChannel(ch string) string {
	if ch == "" {
		return ""
	}
	return " on channel " + ch
}

// hashOutputName is an output name (DATE-HASH.jpg), whose HASH is the
// photo's short hash.
var hashOutputName = regexp.MustCompile(`^[0-9]{8}-([0-9a-f]{12})(\.jpg)?$`)

// resolveHash turns what a coordinator gives for a photo's hash into the
// full sha256, as takedown and retry take it: the sha256 itself, any
// unambiguous prefix of at least 6 characters, or an output name. The
// prefix is looked up among the photos photoguard processed (the journal)
// and published (the ledger).
func resolveHash(cfg *config.Config, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if m := hashOutputName.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	switch {
	case s == "" || strings.Trim(s, "0123456789abcdef") != "":
		return "", errors.New("--sha: not a hash (give the sha256 from a report, the short hash from photoguard status, or the file)")
	case len(s) == 64:
		return s, nil
	case len(s) > 64:
		return "", errors.New("--sha: longer than a sha256")
	case len(s) < 6:
		return "", errors.New("--sha: give at least 6 characters of the hash")
	}
	seen := map[string]bool{}
	var found []string
	add := func(sha string) {
		if strings.HasPrefix(sha, s) && !seen[sha] {
			seen[sha] = true
			found = append(found, sha)
		}
	}
	if h, err := openHouse(cfg, state.ReadOnly); err == nil {
		if j, err := h.Journal(); err == nil {
			recs, _ := j.List()
			for _, r := range recs {
				add(r.SHA256)
			}
		}
		if rd, _, err := h.ReadLedger(); err == nil {
			for _, e := range rd.Entries {
				add(e.SHA256)
			}
		}
		h.Close()
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("--sha %s: no photo photoguard processed has this hash (give the whole sha256 from a report, or the file)", s)
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	return "", fmt.Errorf("--sha %s names %d photos; give more of the hash:\n  %s", s, len(found), strings.Join(found, "\n  "))
}
