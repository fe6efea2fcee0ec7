package afi

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/afisync/afisync/internal/awsid"
	"github.com/afisync/afisync/reconcile"
)

// ActionBuild is CreateFpgaImage, as preflight checks it.
const ActionBuild = "CreateFpgaImage"

// BuildInput is one CreateFpgaImage request.
type BuildInput struct {
	Input       string // s3://bucket/key of the DCP tarball
	Logs        string // s3://bucket/prefix/ for the build's logs; empty: none
	Name        string
	Description string // empty: omitted
	// Tags are set on the AFI as it is created (TagSpecification with
	// ResourceType fpga-image), so that it is never seen without them.
	Tags        map[string]string
	ClientToken string
	DryRun      bool
}

// Build calls CreateFpgaImage in region and returns the new AFI's ID and
// global ID (or, for a repeated ClientToken, those of the AFI the first
// request made, which may have been deleted since).
func (c *Client) Build(ctx context.Context, region string, in BuildInput) (afiID, agfi string, err error) {
	req, err := buildRequest(in)
	if err != nil {
		return "", "", err
	}
	out, err := c.ec2For(region).CreateFpgaImage(ctx, req)
	if err != nil {
		return "", "", fmt.Errorf("build %s in %s (CreateFpgaImage): %w", in.Input, region, err)
	}
	return aws.ToString(out.FpgaImageId), aws.ToString(out.FpgaImageGlobalId), nil
}

func buildRequest(in BuildInput) (*ec2.CreateFpgaImageInput, error) {
	loc := func(uri string) (*ec2types.StorageLocation, error) {
		bucket, key, ok := awsid.SplitS3URI(uri)
		if !ok {
			return nil, fmt.Errorf("malformed S3 location %q", uri)
		}
		return &ec2types.StorageLocation{Bucket: aws.String(bucket), Key: aws.String(key)}, nil
	}
	input, err := loc(in.Input)
	if err != nil {
		return nil, err
	}
	req := &ec2.CreateFpgaImageInput{InputStorageLocation: input}
	if in.Logs != "" {
		if req.LogsStorageLocation, err = loc(in.Logs); err != nil {
			return nil, err
		}
	}
	if in.Name != "" {
		req.Name = aws.String(in.Name)
	}
	if in.Description != "" {
		req.Description = aws.String(in.Description)
	}
	if in.ClientToken != "" {
		req.ClientToken = aws.String(in.ClientToken)
	}
	if in.DryRun {
		req.DryRun = aws.Bool(true)
	}
	if len(in.Tags) > 0 {
		keys := make([]string, 0, len(in.Tags))
		for k := range in.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the same tags, the same request: the ClientToken's parameters
		ts := make([]ec2types.Tag, 0, len(keys))
		for _, k := range keys {
			ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(in.Tags[k])})
		}
		req.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeFpgaImage, Tags: ts}}
	}
	return req, nil
}

// ListTagged returns the caller's AFIs in region that carry tag key with
// value, in any state.
func (c *Client) ListTagged(ctx context.Context, region, key, value string) ([]reconcile.Image, error) {
	out, err := c.ec2For(region).DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{
		Owners:  []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("tag:" + key), Values: []string{value}}},
	})
	if err != nil {
		return nil, fmt.Errorf("find the AFIs tagged %s=%s in %s: %w", key, value, region, err)
	}
	ims := make([]reconcile.Image, 0, len(out.FpgaImages))
	for i := range out.FpgaImages {
		ims = append(ims, toImage(region, &out.FpgaImages[i]))
	}
	return ims, nil
}
