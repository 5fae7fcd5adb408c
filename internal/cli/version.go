package cli

import (
	"encoding/json"
	"fmt"

	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/spf13/cobra"
)

func (a *app) versionCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			i := buildinfo.Get()
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(i)
			}
			commit := i.Commit
			if commit == "" {
				commit = "unknown (not stamped: build with scripts/build.sh)"
			}
			if i.Modified {
				commit += " (modified)"
			}
			fmt.Fprintf(a.stdout, "kensa %s\ncommit: %s\ngo: %s\nplatform: %s\n", i.Version, commit, i.GoVersion, i.Platform)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
