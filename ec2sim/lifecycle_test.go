package ec2sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/afisync/afisync/ec2sim"
)

func TestLifecycle(t *testing.T) {
	e := newEnv(t, ec2sim.Options{BuildTime: 10 * time.Minute})
	east, west := e.ec2("us-east-1"), e.ec2("us-west-2")

	created, err := east.CreateFpgaImage(ctx, &ec2.CreateFpgaImageInput{
		InputStorageLocation: &types.StorageLocation{Bucket: aws.String("b"), Key: aws.String("dcp.tar")},
		Name:                 aws.String("cl_hello"),
		Description:          aws.String("hello world"),
		TagSpecifications: []types.TagSpecification{{
			ResourceType: types.ResourceTypeFpgaImage,
			Tags:         []types.Tag{{Key: aws.String("team"), Value: aws.String("fpga")}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	src, agfi := aws.ToString(created.FpgaImageId), aws.ToString(created.FpgaImageGlobalId)
	if !ec2sim.ValidAFIID(src) || len(agfi) != 22 {
		t.Fatalf("CreateFpgaImage gave %q / %q", src, agfi)
	}

	// Pending: no global ID, PCI IDs or shell version.
	img := e.describe(east, src)
	if img.State.Code != types.FpgaImageStateCodePending || img.FpgaImageGlobalId != nil || img.PciId != nil || img.ShellVersion != nil {
		t.Fatalf("pending image shows %+v", img)
	}
	if len(img.Tags) != 1 || aws.ToString(img.Tags[0].Key) != "team" {
		t.Errorf("tags from TagSpecifications: %+v", img.Tags)
	}

	e.clock.Advance(10 * time.Minute)
	img = e.describe(east, src)
	if img.State.Code != types.FpgaImageStateCodeAvailable || aws.ToString(img.FpgaImageGlobalId) != agfi {
		t.Fatalf("after build: %+v", img)
	}
	if img.PciId == nil || aws.ToString(img.PciId.DeviceId) != "0xf000" || aws.ToString(img.ShellVersion) != "0x071417d3" {
		t.Errorf("available image lacks PCI IDs / shell version: %+v", img)
	}
	if !img.UpdateTime.Equal(t0.Add(10*time.Minute)) || !img.CreateTime.Equal(t0) {
		t.Errorf("times: create %v update %v", img.CreateTime, img.UpdateTime)
	}

	// Copy to another Region: new ID, same AGFI once available, no tags.
	cp, err := west.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src), SourceRegion: aws.String("us-east-1")})
	if err != nil {
		t.Fatal(err)
	}
	dst := aws.ToString(cp.FpgaImageId)
	if dst == src || !ec2sim.ValidAFIID(dst) {
		t.Fatalf("copy ID %q", dst)
	}
	img = e.describe(west, dst)
	if img.State.Code != types.FpgaImageStateCodePending || img.FpgaImageGlobalId != nil {
		t.Fatalf("fresh copy: %+v", img)
	}
	if aws.ToString(img.Name) != "cl_hello" || aws.ToString(img.Description) != "hello world" {
		t.Errorf("copy should default name/description to the source's: %+v", img)
	}
	e.clock.Advance(time.Minute)
	img = e.describe(west, dst)
	if img.State.Code != types.FpgaImageStateCodeAvailable || aws.ToString(img.FpgaImageGlobalId) != agfi {
		t.Fatalf("copy after CopyTime: %+v", img)
	}
	if len(img.Tags) != 0 {
		t.Errorf("copy carried tags: %+v", img.Tags)
	}

	// Copy within the Region, with a name of its own.
	same, err := east.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src), SourceRegion: aws.String("us-east-1"), Name: aws.String("copy")})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	img = e.describe(east, aws.ToString(same.FpgaImageId))
	if aws.ToString(img.Name) != "copy" || aws.ToString(img.FpgaImageGlobalId) != agfi {
		t.Errorf("same-region copy: %+v", img)
	}

	// The AGFI finds every copy.
	out, err := west.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Filters: []types.Filter{{Name: aws.String("fpga-image-global-id"), Values: []string{agfi}}}})
	if err != nil || len(out.FpgaImages) != 1 || aws.ToString(out.FpgaImages[0].FpgaImageId) != dst {
		t.Fatalf("global-id filter in us-west-2: %v %+v", err, out)
	}

	// Delete, then the ID is gone ("not found." with a period after a delete).
	del, err := west.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(dst)})
	if err != nil || !aws.ToBool(del.Return) {
		t.Fatalf("DeleteFpgaImage: %v %+v", err, del)
	}
	_, err = west.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{FpgaImageIds: []string{dst}})
	apiErr(t, err, "InvalidFpgaImageID.NotFound", 400, "Image ID '"+dst+"' not found.")
	if got := e.sim.Images(acctA, "us-west-2"); len(got) != 0 {
		t.Errorf("Images after delete: %+v", got)
	}
	if got := e.sim.Images(acctA, ""); len(got) != 2 {
		t.Errorf("Images(acct, \"\") = %d images, want 2", len(got))
	}
}

func TestCrossRegionCopyFailsLater(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	pending := e.add(ec2sim.Image{Region: "us-east-1", State: "pending"})
	failed := e.add(ec2sim.Image{Region: "us-east-1", State: "failed", Message: "DCP_CORRUPT"})
	theirs := e.add(ec2sim.Image{Region: "us-east-1", Account: acctB, LoadPermissions: []string{acctA}})
	ok := e.add(ec2sim.Image{Region: "us-east-1", Name: "n"})
	west := e.ec2("us-west-2")

	for _, tc := range []struct {
		name, src, srcRegion, msg string
	}{
		{"missing", "afi-0123456789abcdef0", "us-east-1", ec2sim.MsgNotFound},
		{"in another region", ok.ID, "eu-west-1", ec2sim.MsgNotFound},
		{"shared, not owned", theirs.ID, "us-east-1", ec2sim.MsgNotFound},
		{"non-FPGA source region", ok.ID, "us-east-2", ec2sim.MsgNotFound},
		{"pending source", pending.ID, "us-east-1", ec2sim.MsgInvalidState},
		{"failed source", failed.ID, "us-east-1", ec2sim.MsgInvalidState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := west.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(tc.src), SourceRegion: aws.String(tc.srcRegion), Name: aws.String("x")})
			if err != nil {
				t.Fatalf("cross-region copy must return an ID at once, got %v", err)
			}
			id := aws.ToString(out.FpgaImageId)
			if img := e.describe(west, id); img.State.Code != types.FpgaImageStateCodePending {
				t.Fatalf("before CopyTime: %+v", img.State)
			}
			e.clock.Advance(time.Minute)
			img := e.describe(west, id)
			if img.State.Code != types.FpgaImageStateCodeFailed || aws.ToString(img.State.Message) != tc.msg {
				t.Fatalf("state = %s %q, want failed %q", img.State.Code, aws.ToString(img.State.Message), tc.msg)
			}
			// As in AWS's example: only IDs, owner, state and times.
			if img.Name != nil || img.Description != nil || img.FpgaImageGlobalId != nil || img.PciId != nil || img.ShellVersion != nil {
				t.Errorf("failed copy shows too much: %+v", img)
			}
			if !img.UpdateTime.After(*img.CreateTime) {
				t.Errorf("UpdateTime %v not after CreateTime %v", img.UpdateTime, img.CreateTime)
			}
		})
	}
}

func TestSameRegionCopyErrors(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	pending := e.add(ec2sim.Image{Region: "us-east-1", State: "pending"})
	theirs := e.add(ec2sim.Image{Region: "us-east-1", Account: acctB, LoadPermissions: []string{acctA}})
	east := e.ec2("us-east-1")
	for _, tc := range []struct {
		name, src, code string
	}{
		{"missing", "afi-0123456789abcdef0", "InvalidFpgaImageID.NotFound"},
		{"malformed", "afi-123", "InvalidFpgaImageID.Malformed"},
		{"shared, not owned", theirs.ID, "InvalidFpgaImageID.NotFound"},
		{"pending", pending.ID, "IncorrectState"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := east.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(tc.src), SourceRegion: aws.String("us-east-1")})
			apiErr(t, err, tc.code, 400, "")
		})
	}
	if n := len(e.sim.Images(acctA, "")); n != 1 {
		t.Errorf("failed copies created AFIs: %d images", n)
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	src := e.add(ec2sim.Image{Region: "us-east-1", Name: "src"})
	west, eu := e.ec2("us-west-2"), e.ec2("eu-west-1")
	in := func(name string) *ec2.CopyFpgaImageInput {
		return &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), Name: aws.String(name), ClientToken: aws.String("tok-1")}
	}
	first, err := west.CopyFpgaImage(ctx, in("a"))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	again, err := west.CopyFpgaImage(ctx, in("a"))
	if err != nil || aws.ToString(again.FpgaImageId) != aws.ToString(first.FpgaImageId) {
		t.Fatalf("retry with the same token: %v, %v vs %v", err, aws.ToString(again.FpgaImageId), aws.ToString(first.FpgaImageId))
	}
	if n := len(e.sim.Images(acctA, "us-west-2")); n != 1 {
		t.Fatalf("idempotent retry created a copy: %d", n)
	}
	_, err = west.CopyFpgaImage(ctx, in("b"))
	apiErr(t, err, "IdempotentParameterMismatch", 400, "")

	// Tokens are per Region and per account.
	other, err := eu.CopyFpgaImage(ctx, in("a"))
	if err != nil || aws.ToString(other.FpgaImageId) == aws.ToString(first.FpgaImageId) {
		t.Fatalf("same token in another region: %v %v", err, aws.ToString(other.FpgaImageId))
	}
	if _, err := e.ec2("us-west-2", "AKIDB").CopyFpgaImage(ctx, in("a")); err != nil {
		t.Fatalf("same token, other account: %v", err)
	}
	if n := len(e.sim.Images(acctB, "us-west-2")); n != 1 {
		t.Errorf("other account's copy: %d", n)
	}

	// CreateFpgaImage too.
	cin := &ec2.CreateFpgaImageInput{InputStorageLocation: &types.StorageLocation{Bucket: aws.String("b"), Key: aws.String("k")}, ClientToken: aws.String("c")}
	c1, err := west.CreateFpgaImage(ctx, cin)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := west.CreateFpgaImage(ctx, cin)
	if err != nil || aws.ToString(c1.FpgaImageId) != aws.ToString(c2.FpgaImageId) || aws.ToString(c1.FpgaImageGlobalId) != aws.ToString(c2.FpgaImageGlobalId) {
		t.Fatalf("CreateFpgaImage retry: %v %+v %+v", err, c1, c2)
	}
	cin.Name = aws.String("different")
	_, err = west.CreateFpgaImage(ctx, cin)
	apiErr(t, err, "IdempotentParameterMismatch", 400, "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
}

func TestSharingAndDelete(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	east, eastB, eastC := e.ec2("us-east-1"), e.ec2("us-east-1", "AKIDB"), e.ec2("us-east-1", "AKIDC")
	img := e.add(ec2sim.Image{Region: "us-east-1", Name: "mine", Tags: map[string]string{"k": "v"}})
	pend := e.add(ec2sim.Image{Region: "us-east-1", State: "pending"})

	// Load permissions only on available AFIs.
	_, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(pend.ID), Attribute: types.FpgaImageAttributeNameLoadPermission,
		LoadPermission: &types.LoadPermissionModifications{Add: []types.LoadPermissionRequest{{UserId: aws.String(acctB)}}}})
	apiErr(t, err, "IncorrectState", 400, "")

	mod, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), Attribute: types.FpgaImageAttributeNameLoadPermission,
		LoadPermission: &types.LoadPermissionModifications{Add: []types.LoadPermissionRequest{{UserId: aws.String(acctB)}}}})
	if err != nil || len(mod.FpgaImageAttribute.LoadPermissions) != 1 || aws.ToString(mod.FpgaImageAttribute.LoadPermissions[0].UserId) != acctB {
		t.Fatalf("ModifyFpgaImageAttribute: %v %+v", err, mod)
	}

	// B sees it (without its tags) but cannot copy it, delete it or read its attributes; C does not see it.
	seen := e.describe(eastB, img.ID)
	if aws.ToString(seen.OwnerId) != acctA || len(seen.Tags) != 0 {
		t.Errorf("shared AFI as B sees it: %+v", seen)
	}
	if _, err := eastC.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{FpgaImageIds: []string{img.ID}}); err == nil {
		t.Error("C sees an AFI not shared with it")
	}
	_, err = eastB.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(img.ID), SourceRegion: aws.String("us-east-1")})
	apiErr(t, err, "InvalidFpgaImageID.NotFound", 400, "")
	out, err := e.ec2("us-west-2", "AKIDB").CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(img.ID), SourceRegion: aws.String("us-east-1")})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if got := e.describe(e.ec2("us-west-2", "AKIDB"), aws.ToString(out.FpgaImageId)); aws.ToString(got.State.Message) != ec2sim.MsgNotFound {
		t.Errorf("B's cross-region copy of A's shared AFI: %+v", got.State)
	}
	_, err = eastB.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(img.ID)})
	apiErr(t, err, "InvalidFpgaImageID.NotFound", 400, "")

	// The owner cannot delete it while shared, nor while public.
	_, err = east.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(img.ID)})
	apiErr(t, err, "OperationNotPermitted", 400, "Operation not permitted for shared AFI")
	if _, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), Attribute: types.FpgaImageAttributeNameLoadPermission,
		OperationType: types.OperationTypeRemove, UserIds: []string{acctB}}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), Attribute: types.FpgaImageAttributeNameLoadPermission,
		OperationType: types.OperationTypeAdd, UserGroups: []string{"all"}}); err != nil {
		t.Fatal(err)
	}
	if got := e.describe(eastC, img.ID); !aws.ToBool(got.Public) {
		t.Errorf("public AFI as C sees it: %+v", got)
	}
	_, err = east.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(img.ID)})
	apiErr(t, err, "OperationNotPermitted", 400, "Operation not permitted for public AFI")

	attr, err := east.DescribeFpgaImageAttribute(ctx, &ec2.DescribeFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), Attribute: types.FpgaImageAttributeNameLoadPermission})
	if err != nil || len(attr.FpgaImageAttribute.LoadPermissions) != 1 || attr.FpgaImageAttribute.LoadPermissions[0].Group != types.PermissionGroupAll {
		t.Fatalf("DescribeFpgaImageAttribute loadPermission: %v %+v", err, attr)
	}
	if _, err := east.ResetFpgaImageAttribute(ctx, &ec2.ResetFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), Attribute: types.ResetFpgaImageAttributeNameLoadPermission}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(img.ID)}); err != nil {
		t.Fatalf("delete after reset: %v", err)
	}
}

func TestAttributes(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	east := e.ec2("us-east-1")
	img := e.add(ec2sim.Image{Region: "us-east-1", Name: "n", Description: "d", ProductCodes: []string{"abc123"}})
	for _, tc := range []struct {
		attr  types.FpgaImageAttributeName
		check func(*types.FpgaImageAttribute) bool
	}{
		{types.FpgaImageAttributeNameName, func(a *types.FpgaImageAttribute) bool { return aws.ToString(a.Name) == "n" && a.Description == nil }},
		{types.FpgaImageAttributeNameDescription, func(a *types.FpgaImageAttribute) bool { return aws.ToString(a.Description) == "d" && a.Name == nil }},
		{types.FpgaImageAttributeNameLoadPermission, func(a *types.FpgaImageAttribute) bool { return len(a.LoadPermissions) == 0 && a.LoadPermissions != nil }},
		{types.FpgaImageAttributeNameProductCodes, func(a *types.FpgaImageAttribute) bool {
			return len(a.ProductCodes) == 1 && aws.ToString(a.ProductCodes[0].ProductCodeId) == "abc123"
		}},
	} {
		out, err := east.DescribeFpgaImageAttribute(ctx, &ec2.DescribeFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), Attribute: tc.attr})
		if err != nil || aws.ToString(out.FpgaImageAttribute.FpgaImageId) != img.ID || !tc.check(out.FpgaImageAttribute) {
			t.Errorf("%s: %v %+v", tc.attr, err, out.FpgaImageAttribute)
		}
	}
	if _, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), Attribute: types.FpgaImageAttributeNameName, Name: aws.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), Description: aws.String("new")}); err != nil {
		t.Fatal(err)
	}
	got := e.describe(east, img.ID)
	if aws.ToString(got.Name) != "renamed" || aws.ToString(got.Description) != "new" {
		t.Errorf("after modify: %+v", got)
	}
	_, err := east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(img.ID), OperationType: types.OperationTypeAdd, UserIds: []string{"12345"}})
	apiErr(t, err, "InvalidUserID.Malformed", 400, "User ID '12345' is invalid")
}

// TestBuildFailureByInputName checks the simulator's convention for failed
// builds: an input file named fail-CODE… ends failed with CODE and AWS's
// description of it, after the build time.
func TestBuildFailureByInputName(t *testing.T) {
	e := newEnv(t, ec2sim.Options{BuildTime: 10 * time.Minute})
	east := e.ec2("us-east-1")
	for _, tc := range []struct {
		key, state, message string
	}{
		{"dcp/nic-v4.tar", ec2sim.StateAvailable, ""},
		{"dcp/fail-DCP_CORRUPT.tar", ec2sim.StateFailed, "DCP_CORRUPT: Could not parse the input DCP. The DCP files seems to be corrupt"},
		{"fail-MANIFEST_NOT_FOUND", ec2sim.StateFailed, "MANIFEST_NOT_FOUND: No manifest file was found."},
		{"dcp/fail-NO_SUCH_CODE-2.tar", ec2sim.StateFailed, "NO_SUCH_CODE: simulated build failure"},
		{"fail-dcp/nic.tar", ec2sim.StateAvailable, ""},   // the file name counts, not a folder
		{"dcp/not-fail-X.tar", ec2sim.StateAvailable, ""}, // a prefix, not anywhere
	} {
		t.Run(tc.key, func(t *testing.T) {
			out, err := east.CreateFpgaImage(ctx, &ec2.CreateFpgaImageInput{
				InputStorageLocation: &types.StorageLocation{Bucket: aws.String("fpga-builds"), Key: aws.String(tc.key)},
				ClientToken:          aws.String(tc.key),
			})
			if err != nil {
				t.Fatal(err)
			}
			id := aws.ToString(out.FpgaImageId)
			if img := e.describe(east, id); img.State.Code != types.FpgaImageStateCodePending || img.State.Message != nil {
				t.Errorf("during the build: %+v", img.State)
			}
			e.clock.Advance(10 * time.Minute)
			img := e.describe(east, id)
			if string(img.State.Code) != tc.state || !strings.HasPrefix(aws.ToString(img.State.Message), tc.message) ||
				(tc.message == "") != (img.State.Message == nil) {
				t.Errorf("after the build: %s %q, want %s %q", img.State.Code, aws.ToString(img.State.Message), tc.state, tc.message)
			}
			if tc.state == ec2sim.StateFailed && img.FpgaImageGlobalId != nil {
				t.Errorf("a failed build shows its global ID")
			}
			// The same request again answers the same AFI.
			again, err := east.CreateFpgaImage(ctx, &ec2.CreateFpgaImageInput{
				InputStorageLocation: &types.StorageLocation{Bucket: aws.String("fpga-builds"), Key: aws.String(tc.key)},
				ClientToken:          aws.String(tc.key),
			})
			if err != nil || aws.ToString(again.FpgaImageId) != id {
				t.Errorf("repeated request: %v, %s; want %s", err, aws.ToString(again.FpgaImageId), id)
			}
		})
	}
}
