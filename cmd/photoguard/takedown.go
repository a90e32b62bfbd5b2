package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/journal"
)

func takedownCmd() *cobra.Command {
	var sha, pupil string
	cmd := &cobra.Command{
		Use:   "takedown [PHOTO]",
		Short: "Remove a published photo from every target (a parent's request)",
		Long: `Remove a published photo from every target it was published to. The photo is
identified by its content: give the original file, or --sha with the sha256
from a report or from photoguard status. With --pupil ID the pupil's
objection to this photo is recorded too: if the original is put in the inbox
again, it is published with that pupil blurred.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			sha, err := photoSHA256(args, sha, "give the photo or --sha")
			if err != nil {
				return err
			}
			return takedown(cmd.Context(), os.Stdout, cfg, sha, pupil)
		},
	}
	cmd.Flags().StringVar(&sha, "sha", "", "the photo's sha256 instead of the file")
	cmd.Flags().StringVar(&pupil, "pupil", "", "also record this pupil's objection to the photo")
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

func takedown(ctx context.Context, w io.Writer, cfg *config.Config, sha, pupil string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if pupil != "" {
		store, err := openStore(cfg)
		if err != nil {
			return err
		}
		if err := store.Object(sha, pupil, "takedown"); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s objects to photo %s: blurred in it from now on\n", pupil, sha[:12])
	}
	j, err := journal.Open(cfg.StateDir)
	if err != nil {
		return err
	}
	defer j.Close()
	unlock, err := j.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := j.Get(sha)
	if errors.Is(err, journal.ErrNotFound) {
		return fmt.Errorf("photo %s was never processed here (no journal record)", sha[:12])
	}
	if err != nil {
		return err
	}
	removed := 0
	for name, d := range rec.Deliveries {
		if !d.Published {
			continue
		}
		t, ok := cfg.Targets[name]
		if !ok {
			fmt.Fprintf(w, "target %s is not in the configuration: remove %s there by hand\n", name, d.Name)
			continue
		}
		tg, err := openTarget(name, t)
		if err != nil {
			return err
		}
		ref := d.Ref
		if ref == "" {
			ref = d.Name
		}
		if err := tg.Remove(ctx, ref); err != nil {
			return fmt.Errorf("target %s: %w", name, err)
		}
		d.Published, d.TakenDown = false, time.Now().UTC()
		removed++
		fmt.Fprintf(w, "removed %s from %s (%s)\n", d.Name, name, t.Path)
	}
	if removed == 0 {
		fmt.Fprintf(w, "photo %s is not published anywhere now\n", sha[:12])
		return nil
	}
	rec.Outcome = "taken down"
	return j.Put(rec)
}
