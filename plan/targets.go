package plan

// Targets expands the plan into one Target per entry and destination region,
// in entry order and then in region order as written. Each target gets its
// own copy of the merged tags, accounts and groups, so callers may modify
// them.
// Management tags (TagSource, TagPlan) are not included; the executor adds
// them. Selector targets keep the selector for the caller to resolve, and
// build targets their Build (with no SourceAFI) for the caller to find or
// make.
func (p *Plan) Targets() []Target {
	var out []Target
	for i, e := range p.AFIs {
		for _, r := range e.Regions {
			t := Target{
				SourceRegion:     e.SourceRegion,
				SourceAFI:        e.ID,
				Region:           r,
				Tags:             make(map[string]string, len(e.Tags)),
				CopySourceTags:   e.CopySourceTags,
				ExclusiveTags:    e.ExclusiveTags,
				ExclusiveSharing: e.ExclusiveSharing,
				Name:             e.Name,
				Description:      e.Description,
				Entry:            i,
				Retain:           e.Retain,
				Account:          e.Account,
			}
			if e.Build != nil {
				b := *e.Build
				t.Build = &b
			}
			if e.Select != nil {
				sel := *e.Select
				if e.Select.Tags != nil {
					sel.Tags = make(map[string]string, len(e.Select.Tags))
					for k, v := range e.Select.Tags {
						sel.Tags[k] = v
					}
				}
				t.Selector = &sel
			}
			for k, v := range e.Tags {
				t.Tags[k] = v
			}
			if len(e.ShareWith) > 0 {
				t.ShareWith = append([]string(nil), e.ShareWith...)
			}
			if len(e.ShareWithGroups) > 0 {
				t.ShareWithGroups = append([]string(nil), e.ShareWithGroups...)
			}
			out = append(out, t)
		}
	}
	return out
}
