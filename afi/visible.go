package afi

import "context"

// Visible reports which of the AFIs ids in region the caller can see:
// DescribeFpgaImages with the caller's own credentials and no owner filter,
// in batches of up to 200 IDs (an AFI shared with the caller, public, or
// its own is seen; one it may not load is not found). It is paced like
// every describe. The map has an entry for each of ids.
func (c *Client) Visible(ctx context.Context, region string, ids []string) (map[string]bool, error) {
	found, _, err := c.Describe(ctx, region, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = false
	}
	for _, im := range found {
		out[im.ID] = true
	}
	return out, nil
}
