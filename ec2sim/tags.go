package ec2sim

import (
	"sort"
	"strings"
)

// resourceTypeAFI is the resource type of AFIs in tag descriptions.
const resourceTypeAFI = "fpga-image"

// tagFilterNames are DescribeTags' filters; "tag:" allows tag:KEY.
var tagFilterNames = map[string]bool{
	"key": true, "resource-id": true, "resource-type": true, "value": true, "tag:": true,
}

// tagItem is one tag of one AFI, as DescribeTags lists it.
type tagItem struct {
	a          *afi
	key, value string
}

// describeTags implements DescribeTags for the AFIs the caller owns in the
// Region (the only taggable resources the simulator has): filters key,
// value, resource-id, resource-type (fpga-image) and tag:KEY (the resource
// carries that tag with a matching value), ANDed, values ORed, with EC2's
// wildcards; results in resource ID, then key, order; MaxResults 5–1000
// with a NextToken bound to the query.
func (s *Sim) describeTags(c *call) (any, *apiError) {
	filters, ferr := parseFilters(c, tagFilterNames)
	if ferr != nil {
		return nil, ferr
	}
	max, merr := c.maxResults()
	if merr != nil {
		return nil, merr
	}
	after, terr := c.pageStart()
	if terr != nil {
		return nil, terr
	}
	var items []tagItem
	for _, a := range s.images {
		if a.Region != c.region || a.Account != c.account {
			continue
		}
		for k, v := range a.Tags {
			items = append(items, tagItem{a, k, v})
		}
	}
	sort.Slice(items, func(i, j int) bool { return tagPosition(items[i]) < tagPosition(items[j]) })
	res := describeTagsResult{}
	res.TagSet.Items = []xmlTagDescription{}
	for _, it := range items {
		if after != "" && tagPosition(it) <= after {
			continue
		}
		if !filters.match(func(name string) []string { return tagFilterValues(it, name) }) {
			continue
		}
		if max > 0 && len(res.TagSet.Items) == max {
			last := res.TagSet.Items[max-1]
			res.NextToken = c.pageToken(last.ResourceID + "\x00" + last.Key)
			break
		}
		res.TagSet.Items = append(res.TagSet.Items, xmlTagDescription{
			ResourceID: it.a.ID, ResourceType: resourceTypeAFI, Key: it.key, Value: it.value,
		})
	}
	return res, nil
}

// tagPosition orders tag items (and positions NextToken): resource ID, then
// key.
func tagPosition(it tagItem) string { return it.a.ID + "\x00" + it.key }

// tagFilterValues returns the values a DescribeTags filter tests on an item.
func tagFilterValues(it tagItem, name string) []string {
	switch name {
	case "key":
		return []string{it.key}
	case "value":
		return []string{it.value}
	case "resource-id":
		return []string{it.a.ID}
	case "resource-type":
		return []string{resourceTypeAFI}
	}
	if k, ok := strings.CutPrefix(name, "tag:"); ok {
		if v, ok := it.a.Tags[k]; ok {
			return []string{v}
		}
	}
	return nil
}
