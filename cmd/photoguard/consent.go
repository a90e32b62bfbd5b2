package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/internal/display"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/state"
)

func consentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Import the consent export into the consent store, list it, revoke consent",
	}
	var imf importFlags
	imp := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Replace the consent store's people with a CSV export from the administration system",
		Long: `Replace the people in the consent store with a CSV export from the school
administration system (ParnasSys, ESIS, Magister, ...): one row per pupil (or
staff member) with a yes/no column per channel and the date consent was
confirmed. Dutch and English headers are accepted, and consent.columns names
any others; see the README for the format. A file with any problem is
rejected as a whole, with every problem listed by line and column, and
nothing changes.

People who are not in the file are removed from the consent store together
with their enrolled faces. An import that would remove more than
consent.max_remove people (default 5) is refused and lists them by id, unless
--allow-remove is given. The store as it was is kept as a dated backup in the
state folder first. Where consent for a channel is withdrawn, the takedown
command for the photos already published there is printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			imf.path = args[0]
			return runImport(cmd.OutOrStdout(), cfg, imf)
		},
	}
	imp.Flags().BoolVar(&imf.dryRun, "dry-run", false, "show what would change, change nothing")
	imp.Flags().StringVar(&imf.only, "only", "", "replace only the pupils or only the staff (pupils, staff)")
	imp.Flags().BoolVar(&imf.allowRemove, "allow-remove", false, "remove more people than consent.max_remove (they left the school)")

	var group string
	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Show the consent store: id, first name, group, enrolled photos and consent per channel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return consentListAs(cmd.OutOrStdout(), cfg, group, listJSON)
		},
	}
	list.Flags().StringVar(&group, "group", "", "only this group")
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON (one array of people) instead of a table")

	revoke := &cobra.Command{
		Use:   "revoke ID CHANNEL|all",
		Short: "Revoke consent for one channel (or all) from now on, until a newer import confirms it",
		Long: `Revoke a pupil's consent for one channel (or all) from now on: photos processed
from now on redact the pupil there, until an import confirms consent with a
later date. Photos already published are not touched: the command prints the
takedown command to run for each channel.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return consentRevoke(cmd.OutOrStdout(), cfg, args[0], args[1])
		},
	}
	var acceptDry bool
	accept := &cobra.Command{
		Use:   "accept-restore",
		Short: "Accept a consent store restored from a backup, after listing what it undoes",
		Long: `Accept, on purpose, a consent store file (state_dir/registry/registry.db)
restored from a backup, such as the copy a consent import keeps. photoguard
refuses a store older than the last one it saw, because a restore silently
brings back consent that was revoked since the backup and drops objections.
This command lists, by pupil id, the consent and objections in which the
restored store differs from the last state seen, and then accepts it. It
re-applies nothing: revoke or object again where the list says so.
--dry-run only lists.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return consentAcceptRestore(cmd.OutOrStdout(), cfg, acceptDry)
		},
	}
	accept.Flags().BoolVar(&acceptDry, "dry-run", false, "list the differences, accept nothing")
	var restoreDry bool
	restore := &cobra.Command{
		Use:   "restore [BACKUP]",
		Short: "Undo an import: put back the consent store kept before it (without BACKUP: list the backups)",
		Long: `Undo a consent import: put back the people, enrolled faces and consent of the
copy of the consent store that the import kept (state_dir/registry/
registry.db.before-import-DATE; without BACKUP the backups are listed).
Consent revoked and objections recorded since are kept: a restore never
shows a pupil who said no. The consent store as it is now is kept as a
backup first, so the restore can be undone the same way. --dry-run lists,
by id, what would change.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			backup := ""
			if len(args) == 1 {
				backup = args[0]
			}
			return consentRestore(cmd.OutOrStdout(), cfg, backup, restoreDry)
		},
	}
	restore.Flags().BoolVar(&restoreDry, "dry-run", false, "list what would change, change nothing")
	cmd.AddCommand(imp, list, revoke, accept, restore)
	return cmd
}

// consentRevoke revokes and prints, per channel, the takedown to run.
func consentRevoke(w io.Writer, cfg *config.Config, id, channel string) error {
	h, store, err := openConsent(cfg, state.Write)
	if err != nil {
		return err
	}
	defer h.Close()
	channels := []string{channel}
	if channel == "all" {
		channels = consent.Channels()
	}
	withdrawn, err := store.Revoke(id, channels...)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "consent of %s revoked for %s; photos processed from now on redact this pupil there\n", id, strings.Join(channels, ", "))
	printTakedowns(w, cfg, withdrawn)
	return nil
}

// printTakedowns says, per pupil id and channel, how to take down what was
// published before consent was withdrawn.
func printTakedowns(w io.Writer, cfg *config.Config, withdrawn []consent.Withdrawal) {
	if len(withdrawn) == 0 {
		return
	}
	// The publication ledger says which published photos show each pupil;
	// nothing is deleted here: a takedown is the coordinator's decision.
	var recs []*ledger.Record
	var rd *ledger.Reading
	h, err := openHouse(cfg, state.ReadOnly)
	if err == nil {
		defer h.Close()
		var key []byte
		if key, err = h.LedgerKey(); err == nil {
			recs, rd, err = ledger.Records(h.Dir, key, nil)
		}
	}
	if err != nil {
		fmt.Fprintf(w, "the publication ledger cannot be read (%v): which published photos show them is not known\n", err)
	} else {
		// What follows lists only what could be read.
		warnLedger(w, rd)
	}
	for _, wd := range withdrawn {
		live := ledger.Select(recs, ledger.Query{Pupil: wd.ID, Channel: wd.Channel})
		if err == nil && len(live) == 0 {
			// Photos published before the ledger existed are not known by
			// pupil: the command still says what to run.
			fmt.Fprintf(w, "%s on %s: no published photo shows them in the publication ledger; for photos published before it existed: photoguard takedown --pupil %s --channel %s\n",
				wd.ID, wd.Channel, wd.ID, wd.Channel)
			continue
		}
		fmt.Fprintf(w, "%s on %s: %s published that now conflict with their consent:\n", wd.ID, wd.Channel, plural(len(live), "photo"))
		for _, r := range live {
			fmt.Fprintf(w, "  %s  %s on %s (%s)\n", r.Short(), r.Name, r.Target, r.At.Local().Format("2006-01-02"))
		}
		fmt.Fprintf(w, "  they stay online until they are taken down: photoguard takedown --pupil %s --channel %s\n", wd.ID, wd.Channel)
	}
}

// consentRestore lists the backups, or puts one back.
func consentRestore(w io.Writer, cfg *config.Config, backup string, dryRun bool) error {
	h, store, err := openConsent(cfg, modeOf(dryRun))
	if err != nil {
		return err
	}
	defer h.Close()
	if backup == "" {
		backups := store.Backups()
		if len(backups) == 0 {
			fmt.Fprintf(w, "no backups of the consent store (an import keeps one for %d days)\n", cfg.Consent.BackupDays)
			return nil
		}
		fmt.Fprintln(w, "backups of the consent store, oldest first (photoguard consent restore BACKUP puts one back):")
		for _, b := range backups {
			fmt.Fprintf(w, "  %s\n", b)
		}
		return nil
	}
	diff, kept, err := store.RestoreBackup(backup, dryRun)
	if err != nil {
		return err
	}
	printRestoreDiff(w, diff)
	if dryRun {
		fmt.Fprintln(w, "dry run: nothing restored")
		return nil
	}
	fmt.Fprintf(w, "restored %s: %d in the consent store; revocations and objections recorded since were kept\n", backup, store.Snapshot().Len())
	if kept != "" {
		fmt.Fprintf(w, "the consent store as it was before the restore is kept in %s\n", kept)
	}
	return nil
}

func consentAcceptRestore(w io.Writer, cfg *config.Config, dryRun bool) error {
	h, err := openHouse(cfg, modeOf(dryRun))
	if err != nil {
		return err
	}
	defer h.Close()
	diff, err := h.AcceptRestore()
	if err != nil {
		return fmt.Errorf("consent store: %w", err)
	}
	if !diff.RolledBack {
		fmt.Fprintf(w, "nothing to accept: the consent store is generation %d, the newest seen\n", diff.Generation)
		return nil
	}
	if diff.Seen > 0 {
		fmt.Fprintf(w, "the consent store file is generation %d; generation %d was seen last\n", diff.Generation, diff.Seen)
	} else {
		fmt.Fprintf(w, "the consent store file is generation %d; the record of the last generation seen could not be read, so nothing can be compared\n", diff.Generation)
	}
	printRestoreDiff(w, diff)
	if dryRun {
		fmt.Fprintln(w, "dry run: nothing accepted")
		return nil
	}
	fmt.Fprintf(w, "accepted: the restored consent store is now generation %d. Nothing of the list above was re-applied:\n"+
		"revoke consent (photoguard consent revoke ID CHANNEL) and object (photoguard object --sha HASH ID) again where needed.\n", diff.Accepted)
	return nil
}

// printRestoreDiff lists by pupil id (never names) what a restore changes.
func printRestoreDiff(w io.Writer, d consent.RestoreDiff) {
	if len(d.Consent)+len(d.PeopleGone)+len(d.PeopleBack)+len(d.ObjectionsGone)+len(d.ObjectionsBack) == 0 {
		fmt.Fprintln(w, "consent and objections are the same as in the last state seen")
		return
	}
	if len(d.Consent) > 0 {
		fmt.Fprintln(w, "consent that differs (last seen -> restored):")
		for _, c := range d.Consent {
			fmt.Fprintf(w, "  %s %s: %s -> %s\n", c.ID, c.Channel, consentWords(c.Seen), consentWords(c.Restored))
		}
	}
	if len(d.PeopleGone) > 0 {
		fmt.Fprintf(w, "in the last state seen, not in the restored consent store: %s\n", strings.Join(d.PeopleGone, ", "))
	}
	if len(d.PeopleBack) > 0 {
		fmt.Fprintf(w, "in the restored consent store, not in the last state seen: %s\n", strings.Join(d.PeopleBack, ", "))
	}
	for _, o := range d.ObjectionsGone {
		fmt.Fprintf(w, "objection lost by the restore: %s to photo %s\n", o.ID, o.PhotoSHA256)
	}
	for _, o := range d.ObjectionsBack {
		fmt.Fprintf(w, "objection back with the restore: %s to photo %s\n", o.ID, o.PhotoSHA256)
	}
}

func consentWords(c consent.ChannelConsent) string {
	switch {
	case c.Revoked:
		return "revoked on " + c.RevokedOn.Format("2006-01-02")
	case c.Given:
		return "yes (confirmed " + c.ConfirmedOn.Format("2006-01-02") + ")"
	}
	return "no"
}

// importFlags are consent import's arguments.
type importFlags struct {
	path        string
	dryRun      bool
	only        string
	allowRemove bool
}

// consentImport imports path as `consent import` does, without
// --allow-remove.
func consentImport(w io.Writer, cfg *config.Config, path string, dryRun bool, only string) error {
	return runImport(w, cfg, importFlags{path: path, dryRun: dryRun, only: only})
}

func runImport(w io.Writer, cfg *config.Config, f importFlags) error {
	opt := consent.ImportOptions{MaxRemove: cfg.Consent.MaxRemove, AllowRemove: f.allowRemove}
	switch f.only {
	case "":
	case "pupils", "pupil", "leerlingen":
		opt.Scope = []consent.Role{consent.RolePupil}
	case "staff", "personeel":
		opt.Scope = []consent.Role{consent.RoleStaff}
	default:
		return fmt.Errorf("--only %q: say pupils or staff", f.only)
	}
	in, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer in.Close()
	h, store, err := openConsent(cfg, modeOf(f.dryRun))
	if err != nil {
		return err
	}
	defer h.Close()
	now := time.Now()
	file, err := consent.ParseConsentCSV(in, consent.CSVOptions{Now: now, SchoolYearStart: store.Snapshot().SchoolYearStart(now),
		Columns: cfg.Consent.Columns.Map()})
	if err != nil {
		var ce *consent.CSVError
		if errors.As(err, &ce) {
			fmt.Fprintf(w, "%s was not imported; nothing changed:\n%s\n", shown(f.path), display.Lines(err.Error()))
			return exitError{exitUsage}
		}
		return err
	}
	if len(file.Warnings) > 0 {
		fmt.Fprintf(w, "%s to check in %s:\n", plural(len(file.Warnings), "warning"), shown(f.path))
		for _, wn := range file.Warnings {
			fmt.Fprintf(w, "  %s\n", shown(wn.String()))
		}
	}
	var rep consent.ImportReport
	if f.dryRun {
		rep, err = store.DiffImport(file.People, opt)
	} else {
		rep, err = store.ImportConsent(file.People, opt)
	}
	if errors.Is(err, consent.ErrTooManyRemovals) {
		fmt.Fprintf(w, "%s was not imported; nothing changed: it would remove %s from the consent store, more than consent.max_remove (%d) allows:\n",
			f.path, plural(rep.Removed, "person"), opt.MaxRemove)
		printRemovals(w, rep.RemovedPeople, "would be deleted with them")
		fmt.Fprintln(w, "If they all left the school, import again with --allow-remove. If not, check the export: a group or a filter\n"+
			"in the administration system may have left them out.")
		return exitError{exitUsage}
	}
	if err != nil {
		return err
	}
	verb, removed, refs := "imported", "removed, with their enrolled faces", "deleted with them"
	if f.dryRun {
		verb, removed, refs = "would import (dry run)", "would be removed, with their enrolled faces", "would be deleted with them"
	}
	fmt.Fprintf(w, "%s %s: %d in the consent store (%d added, %d updated, %d unchanged, %d removed)\n",
		verb, f.path, rep.People, rep.Added, rep.Updated, rep.Unchanged, rep.Removed)
	if len(rep.RemovedPeople) > 0 {
		fmt.Fprintf(w, "not in the file, %s:\n", removed)
		printRemovals(w, rep.RemovedPeople, refs)
	}
	if rep.ReferencesRemoved > 0 {
		fmt.Fprintf(w, "  %s of %s %s\n", plural(rep.ReferencesRemoved, "enrolled face"), plural(rep.PeopleUnenrolled, "person"),
			map[bool]string{false: "deleted", true: "would be deleted"}[f.dryRun])
	}
	if rep.RevocationsKept > 0 {
		fmt.Fprintf(w, "  %s stay revoked: the file confirms them with a date before the revocation\n", plural(rep.RevocationsKept, "consent"))
	}
	if rep.Backup != "" {
		fmt.Fprintf(w, "the consent store as it was before this import is kept in %s for %d days (to undo the import: see the README, \"Undoing an import\")\n",
			rep.Backup, cfg.Consent.BackupDays)
	}
	if len(rep.Withdrawals) > 0 {
		fmt.Fprintf(w, "consent withdrawn by this import: %s\n", withdrawalList(rep.Withdrawals))
		if !f.dryRun {
			printTakedowns(w, cfg, rep.Withdrawals)
		}
	}
	return nil
}

// printRemovals lists removed people by id, with their references and
// what happens to them (deleted, would be deleted).
func printRemovals(w io.Writer, removed []consent.Removal, what string) {
	for _, r := range removed {
		line := "  " + r.ID
		if r.Role == consent.RoleStaff {
			line += " (staff)"
		}
		if r.References > 0 {
			line += ": " + plural(r.References, "enrolled reference") + " " + what
		}
		fmt.Fprintln(w, line)
	}
}

func withdrawalList(ws []consent.Withdrawal) string {
	parts := make([]string, len(ws))
	for i, wd := range ws {
		parts[i] = wd.ID + " " + wd.Channel
	}
	return strings.Join(parts, ", ")
}

// consentList prints the store as a table.
func consentList(w io.Writer, cfg *config.Config, group string) error {
	return consentListAs(w, cfg, group, false)
}

// listedPerson is one person of `consent list --json` and `enroll --list
// --json`: no last name, no descriptors.
type listedPerson struct {
	ID         string                   `json:"id"`
	FirstName  string                   `json:"first_name"`
	Group      string                   `json:"group"`
	Role       string                   `json:"role"`
	References int                      `json:"references"`
	Consent    map[string]listedConsent `json:"consent,omitempty"`
	// OtherModel counts the references made with other face model files
	// (enroll --list).
	OtherModel *int `json:"other_model_references,omitempty"`
}

type listedConsent struct {
	Valid       bool   `json:"valid"`
	Why         string `json:"why"`
	Given       bool   `json:"given"`
	ConfirmedOn string `json:"confirmed_on,omitempty"`
	Revoked     bool   `json:"revoked,omitempty"`
	RevokedOn   string `json:"revoked_on,omitempty"`
}

func listed(e consent.Entry, withConsent bool) listedPerson {
	p := listedPerson{ID: e.ID, FirstName: e.FirstName, Group: e.Group, Role: string(e.Role), References: e.References}
	if withConsent {
		p.Consent = map[string]listedConsent{}
		for _, ch := range consent.Channels() {
			st := e.Consent[ch]
			p.Consent[ch] = listedConsent{Valid: st.Valid, Why: st.Why, Given: st.Given, ConfirmedOn: dateOrEmpty(st.ConfirmedOn),
				Revoked: st.Revoked, RevokedOn: dateOrEmpty(st.RevokedOn)}
		}
	}
	return p
}

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func consentListAs(w io.Writer, cfg *config.Config, group string, asJSON bool) error {
	h, store, err := openConsent(cfg, state.ReadOnly)
	if err != nil {
		return err
	}
	defer h.Close()
	entries, err := store.List()
	if err != nil {
		return err
	}
	var listing []consent.Entry
	for _, e := range entries {
		if group == "" || strings.EqualFold(e.Group, group) {
			listing = append(listing, e)
		}
	}
	if asJSON {
		out := make([]listedPerson, 0, len(listing))
		for _, e := range listing {
			out = append(out, listed(e, true))
		}
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFIRST NAME\tGROUP\tROLE\tFACES\tWEBSITE\tSOCIAL MEDIA\tNEWSLETTER\tPARENT PORTAL")
	for _, e := range listing {
		// Cells from the consent store are shown escaped: a name cannot reorder the
		// line (U+202E) or send an ESC sequence.
		row := []string{shown(e.ID), shown(e.FirstName), shown(e.Group), string(e.Role), fmt.Sprint(e.References)}
		for _, ch := range consent.Channels() {
			st := e.Consent[ch]
			v := "no"
			switch {
			case st.Valid:
				v = "yes"
			case st.Why != "" && st.Why != consent.ReasonNoConsent:
				v = "no (" + st.Why + ")"
			}
			row = append(row, v)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintf(w, "%s\n", plural(len(listing), "person"))
	return nil
}

func objectCmd() *cobra.Command {
	var note, sha string
	var remove bool
	cmd := &cobra.Command{
		Use:   "object [PHOTO] ID",
		Short: "Record that a pupil objects to one photo: they are redacted in it whatever the consent store says",
		Long: `Record that a pupil (or their parent) objects to one photo. The photo is
identified by its content: give the file, or --sha with its hash as every
other command takes it (the sha256 from a report, the short hash from
photoguard status or photoguard published, any unambiguous prefix of at least
6 characters, or an output name). From then on the pupil is redacted in that
photo on every channel, when it is processed again.

If the photo was already published, photoguard takedown PHOTO --pupil ID
removes it from every target and records this objection as well; a copy
delivered again is then published with the pupil redacted.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			id := args[len(args)-1]
			sha, err := photoSHA256(args[:len(args)-1], sha, "give the photo or --sha, and the pupil id")
			if err != nil {
				return err
			}
			if sha, err = resolveHash(cfg, sha); err != nil {
				return err
			}
			h, store, err := openConsent(cfg, state.Write)
			if err != nil {
				return err
			}
			defer h.Close()
			if remove {
				if err := store.RemoveObjection(sha, id); err != nil {
					return err
				}
				fmt.Printf("objection of %s to photo %s removed\n", id, sha[:12])
				return nil
			}
			if err := store.Object(sha, id, note); err != nil {
				return err
			}
			fmt.Printf("%s is redacted in photo %s from now on\n", id, sha[:12])
			return nil
		},
	}
	cmd.Flags().StringVar(&sha, "sha", "", "the photo's hash instead of the file: the sha256, its short hash (6 or more characters) or an output name")
	cmd.Flags().StringVar(&note, "note", "", "a note for the record (no names)")
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the objection")
	return cmd
}
