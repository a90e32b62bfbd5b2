package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
)

func configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check a configuration file or print a commented example",
	}
	check := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a configuration file (default: the one photoguard would use)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := configPath()
			if len(args) == 1 {
				path = args[0]
			}
			cfg, err := config.Load(path)
			if err == nil {
				// What a start checks of the targets, too (their
				// secrets and certificates).
				err = cfg.CheckTargets()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return exitError{exitUsage}
			}
			src := path
			if src == "" {
				src = "built-in defaults"
			}
			fmt.Printf("%s: OK\n", src)
			for _, w := range cfg.Warnings() {
				fmt.Fprintln(os.Stderr, "warning: "+w)
			}
			fmt.Printf("  inbox:      %s\n  state_dir:  %s\n  models_dir: %s\n", cfg.Inbox, cfg.StateDir, cfg.ModelsDir)
			for _, name := range cfg.TargetNames() {
				t := cfg.Targets[name]
				out := cfg.OutputOf(name)
				fmt.Printf("  target %-10s %s %s (channel %s, %d px, quality %d, approval %s, individual %s)\n", name, t.Type, t.Path, t.Channel,
					out.MaxSide, out.Quality, t.Approval, t.Individual)
			}
			return nil
		},
	}
	example := &cobra.Command{
		Use:   "example",
		Short: "Print a fully commented example configuration (the built-in defaults)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := os.Stdout.Write(config.Example())
			return err
		},
	}
	cmd.AddCommand(check, example)
	return cmd
}
