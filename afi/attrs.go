package afi

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/afisync/afisync/reconcile"
)

// MaxTagResources is how many resources afisync names in one CreateTags or
// DeleteTags call (EC2 accepts up to 1000 but recommends smaller batches).
const MaxTagResources = 500

// LoadPermissions returns the accounts and groups an AFI is shared with
// (DescribeFpgaImageAttribute, Attribute=loadPermission).
func (c *Client) LoadPermissions(ctx context.Context, region, id string) (*reconcile.LoadPermissions, error) {
	out, err := c.ec2For(region).DescribeFpgaImageAttribute(ctx, &ec2.DescribeFpgaImageAttributeInput{
		FpgaImageId: aws.String(id),
		Attribute:   ec2types.FpgaImageAttributeNameLoadPermission,
	})
	if err != nil {
		return nil, fmt.Errorf("read load permissions of %s in %s: %w", id, region, err)
	}
	lp := &reconcile.LoadPermissions{}
	if out.FpgaImageAttribute != nil {
		for _, p := range out.FpgaImageAttribute.LoadPermissions {
			if p.UserId != nil {
				lp.Users = append(lp.Users, *p.UserId)
			}
			if p.Group != "" {
				lp.Groups = append(lp.Groups, string(p.Group))
			}
		}
	}
	return lp, nil
}

// Sharing is one ModifyFpgaImageAttribute load-permission change: accounts
// and groups to add and to remove.
type Sharing struct {
	AddUsers, AddGroups       []string
	RemoveUsers, RemoveGroups []string
}

// Empty reports whether the change does nothing.
func (s Sharing) Empty() bool {
	return len(s.AddUsers)+len(s.AddGroups)+len(s.RemoveUsers)+len(s.RemoveGroups) == 0
}

// ModifySharing adds and removes load permissions of one AFI in one call.
// AWS accepts it only while the AFI is available.
func (c *Client) ModifySharing(ctx context.Context, region, id string, s Sharing) error {
	if s.Empty() {
		return nil
	}
	mods := &ec2types.LoadPermissionModifications{}
	for _, u := range s.AddUsers {
		mods.Add = append(mods.Add, ec2types.LoadPermissionRequest{UserId: aws.String(u)})
	}
	for _, g := range s.AddGroups {
		mods.Add = append(mods.Add, ec2types.LoadPermissionRequest{Group: ec2types.PermissionGroup(g)})
	}
	for _, u := range s.RemoveUsers {
		mods.Remove = append(mods.Remove, ec2types.LoadPermissionRequest{UserId: aws.String(u)})
	}
	for _, g := range s.RemoveGroups {
		mods.Remove = append(mods.Remove, ec2types.LoadPermissionRequest{Group: ec2types.PermissionGroup(g)})
	}
	_, err := c.ec2For(region).ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{
		FpgaImageId:    aws.String(id),
		Attribute:      ec2types.FpgaImageAttributeNameLoadPermission,
		LoadPermission: mods,
	})
	if err != nil {
		return fmt.Errorf("change sharing of %s in %s: %w", id, region, err)
	}
	return nil
}

// SetName sets an AFI's name (ModifyFpgaImageAttribute, Attribute=name).
func (c *Client) SetName(ctx context.Context, region, id, name string) error {
	_, err := c.ec2For(region).ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{
		FpgaImageId: aws.String(id), Attribute: ec2types.FpgaImageAttributeNameName, Name: aws.String(name),
	})
	if err != nil {
		return fmt.Errorf("rename %s in %s: %w", id, region, err)
	}
	return nil
}

// SetDescription sets an AFI's description (ModifyFpgaImageAttribute,
// Attribute=description).
func (c *Client) SetDescription(ctx context.Context, region, id, description string) error {
	_, err := c.ec2For(region).ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{
		FpgaImageId: aws.String(id), Attribute: ec2types.FpgaImageAttributeNameDescription, Description: aws.String(description),
	})
	if err != nil {
		return fmt.Errorf("set the description of %s in %s: %w", id, region, err)
	}
	return nil
}

// DeleteTags removes tag keys (whatever their values) from AFIs of one
// region in one call.
func (c *Client) DeleteTags(ctx context.Context, region string, ids, keys []string) error {
	if len(ids) == 0 || len(keys) == 0 {
		return nil
	}
	keys = append([]string(nil), keys...)
	sort.Strings(keys)
	ts := make([]ec2types.Tag, len(keys))
	for i, k := range keys {
		ts[i] = ec2types.Tag{Key: aws.String(k)}
	}
	if _, err := c.ec2For(region).DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: ts}); err != nil {
		return fmt.Errorf("untag %s in %s: %w", strings.Join(ids, ","), region, err)
	}
	return nil
}

// ResetSharing removes every load permission of an AFI
// (ResetFpgaImageAttribute, Attribute=loadPermission).
func (c *Client) ResetSharing(ctx context.Context, region, id string) error {
	_, err := c.ec2For(region).ResetFpgaImageAttribute(ctx, &ec2.ResetFpgaImageAttributeInput{
		FpgaImageId: aws.String(id), Attribute: ec2types.ResetFpgaImageAttributeNameLoadPermission,
	})
	if err != nil {
		return fmt.Errorf("reset sharing of %s in %s: %w", id, region, err)
	}
	return nil
}

// Delete deletes an AFI in one region (DeleteFpgaImage). AWS refuses while
// the AFI is shared or public.
func (c *Client) Delete(ctx context.Context, region, id string) error {
	if _, err := c.ec2For(region).DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(id)}); err != nil {
		return fmt.Errorf("delete %s in %s: %w", id, region, err)
	}
	return nil
}

// Regions lists the regions enabled for the account (DescribeRegions).
func (c *Client) Regions(ctx context.Context) ([]string, error) {
	out, err := c.ec2For(c.cfg.Region).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	var rs []string
	for _, r := range out.Regions {
		rs = append(rs, aws.ToString(r.RegionName))
	}
	sort.Strings(rs)
	return rs, nil
}

// Mutating actions afisync may call, as preflight checks them.
const (
	ActionCopy     = "CopyFpgaImage"
	ActionTag      = "CreateTags"
	ActionUntag    = "DeleteTags"
	ActionModify   = "ModifyFpgaImageAttribute"
	ActionReset    = "ResetFpgaImageAttribute"
	ActionDelete   = "DeleteFpgaImage"
	preflightTagKy = "afisync:preflight"
)

// DryRun asks EC2 whether the caller may call action in region, with
// DryRun=true so that nothing changes. id is the AFI the call names (for
// CopyFpgaImage, the source in sourceRegion). It returns nil when EC2
// answers DryRunOperation ("would have succeeded"), and the error otherwise
// (UnauthorizedOperation when denied). For CreateFpgaImage (ActionBuild),
// id is the build's input, s3://bucket/key.
func (c *Client) DryRun(ctx context.Context, region, action, id, sourceRegion string) error {
	cl := c.ec2For(region)
	dry := aws.Bool(true)
	var err error
	switch action {
	case ActionCopy:
		_, err = cl.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(id), SourceRegion: aws.String(sourceRegion), DryRun: dry})
	case ActionTag:
		_, err = cl.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String(preflightTagKy), Value: aws.String("")}}, DryRun: dry})
	case ActionUntag:
		_, err = cl.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String(preflightTagKy)}}, DryRun: dry})
	case ActionModify:
		_, err = cl.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(id), Attribute: ec2types.FpgaImageAttributeNameName, Name: aws.String("afisync-preflight"), DryRun: dry})
	case ActionReset:
		_, err = cl.ResetFpgaImageAttribute(ctx, &ec2.ResetFpgaImageAttributeInput{FpgaImageId: aws.String(id), Attribute: ec2types.ResetFpgaImageAttributeNameLoadPermission, DryRun: dry})
	case ActionDelete:
		_, err = cl.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(id), DryRun: dry})
	case ActionBuild:
		var req *ec2.CreateFpgaImageInput
		if req, err = buildRequest(BuildInput{Input: id, Name: "afisync-preflight", DryRun: true}); err == nil {
			_, err = cl.CreateFpgaImage(ctx, req)
		}
	default:
		return fmt.Errorf("preflight: unknown action %s", action)
	}
	if ErrorCode(err) == "DryRunOperation" {
		return nil
	}
	if err == nil {
		return fmt.Errorf("%s in %s: DryRun was not honoured", action, region)
	}
	return err
}
