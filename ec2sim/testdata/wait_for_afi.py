#!/usr/bin/env python3
"""Wait for an AFI the way aws-fpga's shared/bin/scripts/wait_for_afi.py does,
against ec2sim: optionally create (create_fpga_image) or copy
(copy_fpga_image) it first, then poll describe_fpga_images(FpgaImageIds=[afi])
every SLEEP_SECONDS until State.Code is no longer 'pending'; exit 0 when it
is 'available', else print State.Message and exit 1 (also on timeout).

The one difference from the original: sleep() moves the simulator's clock
forward (POST /_sim/clock/advance) instead of sleeping, so a test takes no
real time. Run by ec2sim's TestWaitForAFIWithBotocore.
"""
import argparse
import sys
import urllib.request

SLEEP_SECONDS = 60

try:
    import boto3

    def client(endpoint, region):
        return boto3.client("ec2", endpoint_url=endpoint, region_name=region,
                            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
except ImportError:  # botocore alone, as installed with the aws CLI v1
    import botocore.session

    def client(endpoint, region):
        return botocore.session.get_session().create_client(
            "ec2", endpoint_url=endpoint, region_name=region,
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")


def sleep(endpoint, seconds):
    req = urllib.request.Request("%s/_sim/clock/advance?by=%ds" % (endpoint, seconds), method="POST")
    urllib.request.urlopen(req).read()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--afi", help="AFI to wait for")
    p.add_argument("--create", action="store_true", help="create_fpga_image first")
    p.add_argument("--copy-from", help="SOURCE_REGION:AFI to copy_fpga_image first")
    p.add_argument("--max-minutes", type=int, default=360)
    args = p.parse_args()

    ec2 = client(args.endpoint, args.region)
    afi = args.afi
    if args.create:
        r = ec2.create_fpga_image(InputStorageLocation={"Bucket": "b", "Key": "dcp.tar"}, Name="cl_hello_world")
        afi = r["FpgaImageId"]
        print("created %s (%s)" % (afi, r["FpgaImageGlobalId"]))
    if args.copy_from:
        src_region, src = args.copy_from.split(":")
        afi = ec2.copy_fpga_image(SourceRegion=src_region, SourceFpgaImageId=src)["FpgaImageId"]
        print("copying %s from %s as %s" % (src, src_region, afi))

    waited = 0
    while True:
        image = ec2.describe_fpga_images(FpgaImageIds=[afi])["FpgaImages"][0]
        state = image["State"]["Code"]
        if state != "pending":
            break
        if waited >= args.max_minutes * 60:
            print("%s: timed out after %d minutes, still pending" % (afi, args.max_minutes))
            return 1
        sleep(args.endpoint, SLEEP_SECONDS)
        waited += SLEEP_SECONDS
    print("%s: %s after %d minutes" % (afi, state, waited // 60))
    if state == "available":
        return 0
    print("State.Message: %s" % image["State"].get("Message", ""))
    return 1


if __name__ == "__main__":
    sys.exit(main())
