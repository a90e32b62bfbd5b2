package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/consent"
)

func consentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Import the consent register, list it, revoke consent",
	}
	var dryRun bool
	var only string
	imp := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Replace the consent register with a CSV export from the administration system",
		Long: `Replace the consent register with a CSV export from the school administration
system: one row per pupil (or staff member) with a yes/no column per channel
and the date consent was confirmed. Dutch and English headers are accepted;
see the README for the format. A file with any problem is rejected as a whole,
with every problem listed by line, and nothing changes. People who are not in
the file are removed from the register together with their enrolled faces.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return consentImport(os.Stdout, cfg, args[0], dryRun, only)
		},
	}
	imp.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change, change nothing")
	imp.Flags().StringVar(&only, "only", "", "replace only the pupils or only the staff (pupils, staff)")

	var group string
	list := &cobra.Command{
		Use:   "list",
		Short: "Show the register: id, first name, group, enrolled photos and consent per channel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return consentList(os.Stdout, cfg, group)
		},
	}
	list.Flags().StringVar(&group, "group", "", "only this group")

	revoke := &cobra.Command{
		Use:   "revoke ID CHANNEL|all",
		Short: "Revoke consent for one channel (or all) from now on, until a newer import confirms it",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			store, err := openStore(cfg)
			if err != nil {
				return err
			}
			channels := []string{args[1]}
			if args[1] == "all" {
				channels = config.Channels
			}
			for _, ch := range channels {
				if err := store.Revoke(args[0], ch); err != nil {
					return err
				}
			}
			fmt.Printf("consent of %s revoked for %s; photos processed from now on redact this person there\n",
				args[0], strings.Join(channels, ", "))
			return nil
		},
	}
	var acceptDry bool
	accept := &cobra.Command{
		Use:   "accept-restore",
		Short: "Accept a register restored from a backup, after listing what it undoes",
		Long: `Accept, on purpose, a register (registry/consent.db) restored from a backup.
photoguard refuses a register older than the last one it saw, because a
restore silently brings back consent that was revoked since the backup and
drops objections. This command lists, by pupil id, the consent and
objections in which the restored register differs from the last state seen,
and then accepts it. It re-applies nothing: revoke or object again where
the list says so. --dry-run only lists.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return consentAcceptRestore(os.Stdout, cfg, acceptDry)
		},
	}
	accept.Flags().BoolVar(&acceptDry, "dry-run", false, "list the differences, accept nothing")
	cmd.AddCommand(imp, list, revoke, accept)
	return cmd
}

func consentAcceptRestore(w io.Writer, cfg *config.Config, dryRun bool) error {
	key, opts, err := storeKey(cfg)
	if err != nil {
		return err
	}
	diff, err := consent.AcceptRestore(cfg.StateDir, key, dryRun, opts...)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if !diff.RolledBack {
		fmt.Fprintf(w, "nothing to accept: the register is generation %d, the newest seen\n", diff.Generation)
		return nil
	}
	if diff.Seen > 0 {
		fmt.Fprintf(w, "the register file is generation %d; generation %d was seen last\n", diff.Generation, diff.Seen)
	} else {
		fmt.Fprintf(w, "the register file is generation %d; the record of the last generation seen could not be read, so nothing can be compared\n", diff.Generation)
	}
	printRestoreDiff(w, diff)
	if dryRun {
		fmt.Fprintln(w, "dry run: nothing accepted")
		return nil
	}
	fmt.Fprintf(w, "accepted: the restored register is now generation %d. Nothing of the list above was re-applied:\n"+
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
		fmt.Fprintf(w, "in the last state seen, not in the restored register: %s\n", strings.Join(d.PeopleGone, ", "))
	}
	if len(d.PeopleBack) > 0 {
		fmt.Fprintf(w, "in the restored register, not in the last state seen: %s\n", strings.Join(d.PeopleBack, ", "))
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

func consentImport(w io.Writer, cfg *config.Config, path string, dryRun bool, only string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	people, err := consent.ParseConsentCSV(f, time.Now())
	if err != nil {
		var ce *consent.CSVError
		if errors.As(err, &ce) {
			fmt.Fprintf(w, "%s was not imported; nothing changed:\n%v\n", path, err)
			return exitError{exitUsage}
		}
		return err
	}
	var scope []consent.Role
	switch only {
	case "":
	case "pupils", "pupil", "leerlingen":
		scope = []consent.Role{consent.RolePupil}
	case "staff", "personeel":
		scope = []consent.Role{consent.RoleStaff}
	default:
		return fmt.Errorf("--only %q: say pupils or staff", only)
	}
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	var rep consent.ImportReport
	if dryRun {
		rep, err = store.DiffImport(people, scope...)
	} else {
		rep, err = store.ImportConsent(people, scope...)
	}
	if err != nil {
		return err
	}
	verb := "imported"
	if dryRun {
		verb = "would import (dry run)"
	}
	fmt.Fprintf(w, "%s %s: %d in the register (%d added, %d updated, %d unchanged, %d removed)\n",
		verb, path, rep.People, rep.Added, rep.Updated, rep.Unchanged, rep.Removed)
	if rep.ReferencesRemoved > 0 {
		fmt.Fprintf(w, "  %s of %s who left deleted\n", plural(rep.ReferencesRemoved, "enrolled face"), plural(rep.PeopleUnenrolled, "person"))
	}
	if rep.RevocationsKept > 0 {
		fmt.Fprintf(w, "  %s stay revoked: the file confirms them with a date before the revocation\n", plural(rep.RevocationsKept, "consent"))
	}
	return nil
}

func consentList(w io.Writer, cfg *config.Config, group string) error {
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	entries, err := store.List()
	if err != nil {
		return err
	}
	sort.Slice(entries, func(a, b int) bool {
		if entries[a].Group != entries[b].Group {
			return entries[a].Group < entries[b].Group
		}
		return entries[a].ID < entries[b].ID
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFIRST NAME\tGROUP\tROLE\tFACES\tWEBSITE\tSOCIAL MEDIA\tNEWSLETTER\tPARENT PORTAL")
	n := 0
	for _, e := range entries {
		if group != "" && !strings.EqualFold(e.Group, group) {
			continue
		}
		n++
		row := []string{e.ID, e.FirstName, e.Group, string(e.Role), fmt.Sprint(e.References)}
		for _, ch := range config.Channels {
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
	fmt.Fprintf(w, "%s\n", plural(n, "person"))
	return nil
}

func objectCmd() *cobra.Command {
	var note, sha string
	var remove bool
	cmd := &cobra.Command{
		Use:   "object [PHOTO] ID",
		Short: "Record that a pupil objects to one photo: they are redacted in it whatever the register says",
		Long: `Record that a pupil (or their parent) objects to one photo. The photo is
identified by its content: give the file, or --sha with the sha256 from a
report. From then on the pupil is redacted in that photo on every channel.
If the photo was already published, take it down at the target and put the
original in the inbox again.`,
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
			store, err := openStore(cfg)
			if err != nil {
				return err
			}
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
	cmd.Flags().StringVar(&sha, "sha", "", "the photo's sha256 (from a report) instead of the file")
	cmd.Flags().StringVar(&note, "note", "", "a note for the record (no names)")
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the objection")
	return cmd
}
