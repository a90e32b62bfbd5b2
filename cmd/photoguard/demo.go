package main

import "github.com/spf13/cobra"

func demoCmd() *cobra.Command {
	return &cobra.Command{Use: "demo", Short: "Run a batch over a built-in demo inbox", RunE: func(cmd *cobra.Command, args []string) error { return nil }}
}
