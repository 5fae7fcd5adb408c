package apiclient

import (
	"context"
	"net/http"
	"time"
)

// SuppressionRequest is a new suppression: the fields of a suppression
// file's entry (docs/suppressions.md). At least one of Vulnerability,
// Rule, Package and Path; Reason and Owner are required; Expires is the
// last day it applies (YYYY-MM-DD, UTC), or empty for none.
type SuppressionRequest struct {
	Vulnerability string `json:"vulnerability,omitempty"`
	Rule          string `json:"rule,omitempty"`
	Package       string `json:"package,omitempty"`
	Host          string `json:"host,omitempty"`
	Path          string `json:"path,omitempty"`
	RulesPackage  string `json:"rules_package,omitempty"`
	Reason        string `json:"reason"`
	Owner         string `json:"owner"`
	Expires       string `json:"expires,omitempty"`
}

// Suppression is a suppression the server keeps: its fields, whether it
// has expired (it then applies to nothing), and who (the API token's
// id) created it and when.
type Suppression struct {
	ID string `json:"id"`
	SuppressionRequest
	Expired   bool      `json:"expired"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// CreateSuppression creates a suppression (operator). It applies from
// the next evaluation: the findings of runs already evaluated stay as
// they were stored. The server refuses (422) what a suppression file
// would refuse, with every reason.
func (c *Client) CreateSuppression(ctx context.Context, req SuppressionRequest) (Suppression, error) {
	var out Suppression
	err := c.call(ctx, http.MethodPost, "/suppressions", nil, req, &out)
	return out, err
}

// ListSuppressions lists the suppressions, oldest first: the order in
// which they are tried.
func (c *Client) ListSuppressions(ctx context.Context) ([]Suppression, error) {
	var out struct {
		Suppressions []Suppression `json:"suppressions"`
	}
	err := c.call(ctx, http.MethodGet, "/suppressions", nil, nil, &out)
	return out.Suppressions, err
}

// GetSuppression shows a suppression.
func (c *Client) GetSuppression(ctx context.Context, suppressionID string) (Suppression, error) {
	var out Suppression
	err := c.call(ctx, http.MethodGet, "/suppressions/"+id(suppressionID), nil, nil, &out)
	return out, err
}

// DeleteSuppression deletes a suppression (operator): it applies no more
// from the next evaluation; the findings it matched keep it.
func (c *Client) DeleteSuppression(ctx context.Context, suppressionID string) error {
	return c.call(ctx, http.MethodDelete, "/suppressions/"+id(suppressionID), nil, nil, nil)
}
