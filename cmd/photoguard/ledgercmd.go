package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/state"
)

// warnLedger says on w that lines of the ledger were skipped; it reports
// whether there were.
func warnLedger(w io.Writer, rd *ledger.Reading) bool {
	if p := rd.Problem(); p != "" {
		fmt.Fprintln(w, "warning: "+p)
		return true
	}
	return false
}

func ledgerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ledger",
		Short: "Check the publication ledger, or repair it keeping every entry that can be read",
	}
	check := &cobra.Command{
		Use:   "check",
		Short: "Read the whole publication ledger and say which lines are damaged or were changed",
		Long: `Read state_dir/ledger/ledger.jsonl and report every line that is not an entry
(damaged: a disk fault, an editor) or whose seal does not match (changed after
it was written). Each line is sealed with a key derived from the consent
store's key; lines written before sealing (photoguard 1.4 and older) carry
no seal and are read as they are.

Exit status: 0 when every line can be read, 2 when lines were skipped
(photoguard ledger repair keeps every readable entry), 1 when the ledger
cannot be read at all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return ledgerCheck(os.Stdout, cfg)
		},
	}
	repair := &cobra.Command{
		Use:   "repair",
		Short: "Rewrite the publication ledger with every entry that can be read; keep the other lines aside",
		Long: `Rewrite state_dir/ledger/ledger.jsonl with every entry that can be read and
trusted, sealed again, and move the damaged and changed lines to
ledger.jsonl.damaged-DATE beside it (0600; nothing reads it, it is kept for
you). The service may keep running: it waits for the repair. Check what the
lines that were moved aside named (photoguard ledger check shows it) and take
those photos down by hand if they are still online.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return ledgerRepair(os.Stdout, cfg, time.Now())
		},
	}
	cmd.AddCommand(check, repair)
	return cmd
}

func ledgerCheck(w io.Writer, cfg *config.Config) error {
	h, err := openHouse(cfg, state.ReadOnly)
	if err != nil {
		return err
	}
	defer h.Close()
	rd, key, err := h.ReadLedger()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: %s, %s read\n", rd.Path, plural(rd.Lines, "line"), entries(len(rd.Entries)))
	if rd.Unsealed > 0 {
		fmt.Fprintf(w, "  %d written before entries were sealed (read as they are)\n", rd.Unsealed)
	}
	if key == nil && rd.Unchecked > 0 {
		fmt.Fprintf(w, "  %d sealed, not checked: the consent store's key is not there\n", rd.Unchecked)
	}
	for _, n := range rd.Damaged {
		fmt.Fprintf(w, "  line %d is damaged: not an entry\n", n)
	}
	for i, n := range rd.Changed {
		e := rd.Suspect[i]
		fmt.Fprintf(w, "  line %d was changed (its seal does not match); it now names photo %s, %s on %s: check that photo by hand\n",
			n, shown(shortHash(e.SHA256)), shown(e.Name), shown(e.Target))
	}
	if n := len(ledger.Leftovers(rd.Entries)); n > 0 {
		fmt.Fprintf(w, "  %s a target may have taken after photoguard gave up on them, not yet confirmed gone (the service's sweep and photoguard purge remove them)\n",
			plural(n, "temporary upload"))
	}
	if rd.Skipped() == 0 {
		fmt.Fprintln(w, "OK")
		return nil
	}
	fmt.Fprintln(w, "these lines are skipped by published, takedown, consent revoke and status; photoguard ledger repair keeps every entry that can be read")
	return exitError{exitAttention}
}

func ledgerRepair(w io.Writer, cfg *config.Config, now time.Time) error {
	h, err := openHouse(cfg, state.Write)
	if err != nil {
		return err
	}
	defer h.Close()
	key, err := h.LedgerKey()
	if err != nil {
		return err
	}
	res, err := ledger.Repair(h.Dir, key, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: %s kept", res.Path, entries(res.Kept))
	if res.Set == "" {
		fmt.Fprintln(w, "; nothing was damaged")
		return nil
	}
	fmt.Fprintf(w, "; %s moved to %s\n", plural(res.Skipped(), "line"), res.Set)
	return nil
}

func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}

func shortHash(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
