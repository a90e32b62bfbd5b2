package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func completionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: `Print the script that makes the shell complete photoguard's commands, flags
and values (the configured targets for --target, files and folders).
Install it once:

  bash:  photoguard completion bash | sudo tee /etc/bash_completion.d/photoguard >/dev/null
         (or, for one user: photoguard completion bash > ~/.local/share/bash-completion/completions/photoguard)
         (bash needs the bash-completion package: apt install bash-completion)
  zsh:   photoguard completion zsh > "${fpath[1]}/_photoguard"
         (completion must be enabled: autoload -U compinit; compinit)
  fish:  photoguard completion fish > ~/.config/fish/completions/photoguard.fish

and open a new shell. To try it in the current bash: source <(photoguard completion bash)`,
		ValidArgs:             []string{"bash", "zsh", "fish"},
		Args:                  cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeCompletion(cmd.OutOrStdout(), cmd.Root(), args[0])
		},
	}
}

func writeCompletion(w io.Writer, root *cobra.Command, shell string) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	}
	return fmt.Errorf("no completion for %q (bash, zsh or fish)", shell)
}

// completeTargets completes a --target flag with the configured targets'
// names (nothing when the configuration does not load).
func completeTargets(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, n := range cfg.TargetNames() {
		names = append(names, n+"\t"+cfg.Targets[n].Channel)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
