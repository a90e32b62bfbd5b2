package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/enroll"
	"github.com/photoguard/photoguard/pipeline/state"
)

func correctCmd() *cobra.Command {
	var face int
	var not string
	cmd := &cobra.Command{
		Use:   "correct PHOTO --face N --not ID",
		Short: "Record that a face was wrongly matched to a pupil: that face is never matched to them again",
		Long: `A face on the review page (or in explain) was matched to the wrong pupil. Record
it: the face is kept (encrypted, in the consent store) as "not ID", and from
the next photo on a face that close to it is never matched to ID (it is
redacted unless it is confidently someone else). PHOTO is the file, or the
photo hash the review page shows (for inputs the service has wiped); N is the
face's number there. When the photo was published with the face shown, the
command to take it down is printed.

  photoguard correct 3f2a9c1b0d4e --face 2 --not 100205`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if face < 1 || not == "" {
				return errors.New("give --face N (from 1) and --not ID")
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return correct(cmd.Context(), os.Stdout, cfg, args[0], face, not)
		},
	}
	cmd.Flags().IntVar(&face, "face", 0, "the face number (1..N, as review and explain number them)")
	cmd.Flags().StringVar(&not, "not", "", "the pupil id the face is not")
	return cmd
}

func correct(ctx context.Context, w io.Writer, cfg *config.Config, photo string, n int, id string) error {
	h, store, err := openConsent(cfg, state.Write)
	if err != nil {
		return err
	}
	defer h.Close()
	if _, ok := store.Snapshot().Person(id); !ok {
		return fmt.Errorf("%s is not in the consent store", shown(id))
	}
	rf, err := findReviewedFace(ctx, cfg, photo, n)
	if err != nil {
		return err
	}
	if err := enroll.MarkNot(h.Dir, store, id, rf); err != nil {
		return err
	}
	fmt.Fprintf(w, "face %d of photo %s recorded as not %s: it is not matched to %s again\n", n, rf.SHA256[:12], id, id)
	if len(rf.ShownOn) > 0 {
		fmt.Fprintf(w, "\nThe photo was published with this face shown on %s. To take it down:\n\n", strings.Join(rf.ShownOn, ", "))
		fmt.Fprintf(w, "  photoguard takedown --pupil %s %s\n\n", id, rf.SHA256[:12])
		fmt.Fprintf(w, "It records %s's objection to the photo: if it is delivered again, it is published with %s redacted.\n", id, id)
	}
	return nil
}
