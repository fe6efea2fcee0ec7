package ec2sim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/afisync/afisync/ec2sim"
)

func TestAttributeErrors(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	east := e.ec2("us-east-1")
	img := e.add(ec2sim.Image{Region: "us-east-1"})
	pend := e.add(ec2sim.Image{Region: "us-east-1", State: "pending"})
	id := aws.String(img.ID)
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"describe: unknown attribute", func() error {
			_, err := east.DescribeFpgaImageAttribute(ctx, &ec2.DescribeFpgaImageAttributeInput{FpgaImageId: id, Attribute: "colour"})
			return err
		}, "InvalidParameterValue"},
		{"describe: not owner", func() error {
			_, err := e.ec2("us-east-1", "AKIDB").DescribeFpgaImageAttribute(ctx, &ec2.DescribeFpgaImageAttributeInput{FpgaImageId: id, Attribute: types.FpgaImageAttributeNameName})
			return err
		}, "InvalidFpgaImageID.NotFound"},
		{"modify: group other than all", func() error {
			_, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: id, OperationType: types.OperationTypeAdd, UserGroups: []string{"admins"}})
			return err
		}, "InvalidParameterValue"},
		{"modify: no operation type", func() error {
			_, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: id, UserIds: []string{acctB}})
			return err
		}, "InvalidParameterValue"},
		{"modify: nothing to change", func() error {
			_, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: id, Attribute: types.FpgaImageAttributeNameLoadPermission})
			return err
		}, "MissingParameter"},
		{"modify: unknown attribute", func() error {
			_, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: id, Attribute: "colour"})
			return err
		}, "InvalidParameterValue"},
		{"reset: only loadPermission", func() error {
			_, err := east.ResetFpgaImageAttribute(ctx, &ec2.ResetFpgaImageAttributeInput{FpgaImageId: id, Attribute: "name"})
			return err
		}, "InvalidParameterValue"},
		{"reset: pending AFI", func() error {
			_, err := east.ResetFpgaImageAttribute(ctx, &ec2.ResetFpgaImageAttributeInput{FpgaImageId: aws.String(pend.ID)})
			return err
		}, "IncorrectState"},
		{"create without storage location key", func() error {
			_, err := east.CreateFpgaImage(ctx, &ec2.CreateFpgaImageInput{InputStorageLocation: &types.StorageLocation{Bucket: aws.String("b")}})
			return err
		}, "MissingParameter"},
		{"create with a wrong tag resource type", func() error {
			_, err := east.CreateFpgaImage(ctx, &ec2.CreateFpgaImageInput{InputStorageLocation: &types.StorageLocation{Bucket: aws.String("b"), Key: aws.String("k")},
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}})
			return err
		}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) { apiErr(t, tc.call(), tc.code, 400, "") })
	}
	// Product codes are only ever added.
	out, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: id, Attribute: types.FpgaImageAttributeNameProductCodes, ProductCodes: []string{"p1", "p1", "p2"}})
	if err != nil || len(out.FpgaImageAttribute.ProductCodes) != 2 {
		t.Errorf("productCodes: %v %+v", err, out)
	}
	// LoadPermission.Add/Remove through the SDK's structured form.
	out, err = east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: id, LoadPermission: &types.LoadPermissionModifications{
		Add: []types.LoadPermissionRequest{{UserId: aws.String(acctB)}, {UserId: aws.String(acctC)}, {Group: types.PermissionGroupAll}},
	}})
	if err != nil || len(out.FpgaImageAttribute.LoadPermissions) != 3 {
		t.Fatalf("add: %v %+v", err, out)
	}
	out, err = east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: id, LoadPermission: &types.LoadPermissionModifications{
		Remove: []types.LoadPermissionRequest{{UserId: aws.String(acctB)}, {Group: types.PermissionGroupAll}},
	}})
	if err != nil || len(out.FpgaImageAttribute.LoadPermissions) != 1 || aws.ToString(out.FpgaImageAttribute.LoadPermissions[0].UserId) != acctC {
		t.Fatalf("remove: %v %+v", err, out)
	}
}

func TestSettersAndClearFaults(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	c := e.ec2("us-east-1")
	e.sim.InjectFault("DescribeRegions", 5, "InternalError", 500)
	e.sim.ClearFaults()
	if _, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, noRetry); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
	e.sim.SetErrorRate(1)
	if _, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, noRetry); err == nil {
		t.Error("SetErrorRate(1) let a call through")
	}
	e.sim.SetErrorRate(0)
	e.sim.SetThrottle(true)
	for range 100 {
		c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, noRetry)
	}
	_, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, noRetry)
	apiErr(t, err, "RequestLimitExceeded", 503, "")
	e.sim.SetThrottle(false)
	if _, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, noRetry); err != nil {
		t.Errorf("after SetThrottle(false): %v", err)
	}
	if !e.sim.FPGARegion("eu-west-2") || e.sim.FPGARegion("us-east-2") {
		t.Error("FPGARegion")
	}
	e.clock.Set(t0.Add(time.Hour))
	if !e.sim.Now().Equal(t0.Add(time.Hour)) {
		t.Error("ManualClock.Set")
	}
}
