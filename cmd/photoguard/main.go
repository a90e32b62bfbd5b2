package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/internal/display"
)

// Exit statuses.
const (
	exitOK = 0
	// exitUsage: usage or configuration error.
	exitUsage = 1
	// exitAttention: the run finished but some photos were quarantined or held.
	exitAttention = 2
)

// exitError carries an exit status out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

var (
	flagConfig   string
	flagLogLevel string
)

func main() {
	root := &cobra.Command{
		Use:   "photoguard",
		Short: "Make school photos safe to publish",
		Long: `photoguard strips every bit of metadata from school photos, blurs every face the
target channel may not show, rejects photos in flagged categories (swimming, gym)
and publishes what is left.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&flagConfig, "config", "", "configuration file (default: $PHOTOGUARD_CONFIG, then /etc/photoguard/photoguard.yaml, then the built-in defaults)")
	root.PersistentFlags().StringVar(&flagLogLevel, "log-level", "", "debug, info, warn or error")
	root.AddCommand(batchCmd(), runCmd(), statusCmd(), enrollCmd(), consentCmd(), objectCmd(), explainCmd(), tuneCmd(), takedownCmd(), configCmd(), demoCmd())
	root.AddCommand(publishedCmd(), purgeCmd(), retryCmd(), completionCmd(), reviewCmd(), correctCmd(), ledgerCmd(), targetCmd())
	root.AddCommand(pendingCmd(), approveCmd(), rejectCmd())
	setVersion(root)

	// The one signal context: every command's cmd.Context() ends at the
	// first SIGINT or SIGTERM (the photo in hand is finished or rolled
	// back); a second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := root.ExecuteContext(ctx)
	stop()
	var ee exitError
	switch {
	case err == nil:
		os.Exit(exitOK)
	case errors.As(err, &ee):
		os.Exit(ee.code)
	default:
		printError(os.Stderr, err)
		os.Exit(exitUsage)
	}
}

// printError prints a command's error. Every message may quote a name, a
// path or an id from outside: each line is escaped.
func printError(w io.Writer, err error) {
	fmt.Fprintln(w, "photoguard:", display.Lines(err.Error()))
}

// configPath is the file to load: the flag, the environment, the system
// file if it exists, or none (built-in defaults).
func configPath() string {
	if flagConfig != "" {
		return flagConfig
	}
	if p := os.Getenv("PHOTOGUARD_CONFIG"); p != "" {
		return p
	}
	const system = "/etc/photoguard/photoguard.yaml"
	if _, err := os.Stat(system); err == nil {
		return system
	}
	return ""
}

func loadConfig() (*config.Config, error) {
	cfg, err := config.Load(configPath())
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// newLogger logs to stderr: text on a terminal, JSON otherwise (for
// journald and log collectors).
func newLogger(defaultLevel slog.Level) (*slog.Logger, error) {
	level := defaultLevel
	if flagLogLevel != "" {
		if err := level.UnmarshalText([]byte(flagLogLevel)); err != nil {
			return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", flagLogLevel)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if isTerminal(os.Stderr) {
		h = slog.NewTextHandler(os.Stderr, opts)
	} else {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	return slog.New(h), nil
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func indent(w io.Writer, s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintln(w, "  "+line)
	}
}

// shown makes a file or folder name, a consent register cell or an id typed on the
// command line (or a reason that may quote one) safe to print on a
// terminal: internal/display's one rule, for the commands and the pages.
func shown(s string) string { return display.Escape(s) }
