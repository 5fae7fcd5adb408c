package cli

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kensa-dev/kensa/internal/apiclient"
)

func (a *app) deliveryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delivery",
		Short: "See the webhook notifications a Kensa server sent, or is still trying to send",
		Long: `A template's subscriptions (kensa template create --subscribe EVENT=URL) make
the server post a signed JSON document to the URL when the event happens. Each
post is a delivery, recorded with every attempt: pending (not sent yet, or
sent and refused with a status worth retrying: network errors, 5xx, 408, 429;
retried with backoff for 24 hours), delivered, or failed (given up).
` + clientHelp,
		Args: noArgs,
	}
	cmd.AddCommand(a.deliveryListCommand())
	return cmd
}

func (a *app) deliveryListCommand() *cobra.Command {
	var (
		cf     clientFlags
		format string
		run    string
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List webhook deliveries: a run's, or the latest of every run",
		Long: `List webhook deliveries: with --run, that run's in the order they are sent;
without, the latest --limit of every run, newest first. The table shows where
each went by scheme and host only (a webhook URL's path often holds a
secret); --format json prints {"deliveries": [...]} with the full URL, every
timestamp and the payload sent.
` + clientHelp,
		Example: `  kensa delivery list --run run-0123
  kensa delivery list --limit 20 --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 || limit > 1000 {
				return usageErrorf("--limit %d: want 1 to 1000 (0: the server's default, 100)", limit)
			}
			fetch := func(ctx context.Context, c *apiclient.Client) ([]apiclient.Delivery, error) {
				return c.ListDeliveries(ctx, run, limit)
			}
			return fetchAndShow(cmd.Context(), a, &cf, format, fetch,
				func(ds []apiclient.Delivery) any {
					return struct {
						Deliveries []apiclient.Delivery `json:"deliveries"`
					}{append([]apiclient.Delivery{}, ds...)}
				},
				func(ds []apiclient.Delivery) error {
					counts := map[string]int{}
					t := newTable(a.stdout, "ID", "RUN", "EVENT", "TO", "STATUS", "ATTEMPTS", "LAST RESULT", "NEXT ATTEMPT", "CREATED")
					for _, d := range ds {
						counts[d.Status]++
						last := ""
						switch {
						case d.LastError != "":
							last = clip(safeCell(d.LastError), maxTitle)
						case d.LastStatus != 0:
							last = "HTTP " + strconv.Itoa(d.LastStatus)
						}
						next := ""
						if d.NextAttempt != nil {
							next = when(*d.NextAttempt)
						}
						t.row(d.ID, d.RunID, string(d.Event), destination(d.URL), d.Status, strconv.Itoa(d.Attempts), last, next, when(d.Created))
					}
					if err := t.flush(); err != nil {
						return err
					}
					a.infof("%d deliveries: %d pending, %d delivered, %d failed", len(ds), counts["pending"], counts["delivered"], counts["failed"])
					return nil
				})
		},
	}
	cf.register(cmd)
	formatFlag(cmd, &format)
	cmd.Flags().StringVar(&run, "run", "", "only this run's deliveries (`RUN-ID`)")
	cmd.Flags().IntVar(&limit, "limit", 0, "without --run, how many of the latest deliveries (`N`, at most 1000; default the server's, 100)")
	return cmd
}

// destination is where a webhook goes, without the path or query that
// may hold its secret: "https://hooks.example.com".
func destination(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(not a URL)"
	}
	return fmt.Sprintf("%s://%s", u.Scheme, u.Host)
}
