#!/bin/bash
# accounts.sh [AFISYNC] — issue 20's done-when by hand, with real processes:
# a plan of three accounts (profiles dev and ci from an AWS_CONFIG_FILE of
# two profiles; prod's role assumed with the command's own credentials and
# an external ID) converges in one `afisync sync --wait` against a real
# `afisync sim`, shares prod's copies with dev, and dev confirms them; the
# rerun changes nothing; the aws CLI with profile dev lists prod's copy; then
# against a simulator with `--deny 222222222222`, prod's targets are skipped
# with one line and the others converge (exit 1). AFISYNC defaults to
# `afisync` on PATH. Run it in an empty directory: it writes seed.yaml,
# config and plan.yaml there. Needs the aws CLI.
set -u
B=${1:-afisync}
cat > seed.yaml <<'YAML'
images:
  - {id: afi-0aaaaaaaaaaaaaaa1, account: "222222222222", region: us-east-1, name: prod-shell}
  - {id: afi-0bbbbbbbbbbbbbbb2, account: "333333333333", region: us-east-1, name: dev-shell}
  - {id: afi-0ccccccccccccccc3, account: "444444444444", region: us-east-1, name: ci-shell}
YAML
cat > config <<'INI'
[profile dev]
aws_access_key_id = AKIDDEV
aws_secret_access_key = secret
region = us-east-1

[profile ci]
aws_access_key_id = AKIDCI
aws_secret_access_key = secret
region = us-east-1
INI
cat > plan.yaml <<'YAML'
version: 1
name: fleet
accounts:
  prod:
    role_arn: arn:aws:iam::222222222222:role/afisync
    external_id: fleet-7f3a
  dev:
    profile: dev
  ci:
    profile: ci
defaults:
  source_region: us-east-1
  regions: [us-west-2, eu-west-1]
afis:
  - id: afi-0aaaaaaaaaaaaaaa1
    account: prod
    share_with: [dev]
  - id: afi-0bbbbbbbbbbbbbbb2
    account: dev
  - id: afi-0ccccccccccccccc3
    account: ci
YAML
rm -f env
$B sim --listen 127.0.0.1:0 --env-file $PWD/env --seed seed.yaml --copy-time 5s \
  --accounts AKIDDEV=333333333333,AKIDCI=444444444444 \
  --role-external-id arn:aws:iam::222222222222:role/afisync=fleet-7f3a 2>sim.log &
SIM=$!
until [ -s env ]; do sleep 0.1; done
. ./env
export AWS_CONFIG_FILE=$PWD/config AWS_SHARED_CREDENTIALS_FILE=$PWD/none AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIDCALLER AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1
unset AWS_PROFILE
echo "## sync --wait"
/usr/bin/time -f "wall %es" $B sync --wait --plan plan.yaml --log-level warn; echo "exit $?"
echo "## rerun"
$B sync --wait --plan plan.yaml --log-level warn; echo "exit $?"
echo "## dev's own view (aws CLI, profile dev), us-west-2"
aws ec2 describe-fpga-images --profile dev --region us-west-2 --query 'FpgaImages[].[FpgaImageId,OwnerId,State.Code]' --output text
echo "## --deny 222222222222 (restart the sim): prod's role cannot be assumed"
kill $SIM; wait $SIM 2>/dev/null
rm -f env
$B sim --listen 127.0.0.1:0 --env-file $PWD/env --seed seed.yaml --copy-time 5s \
  --accounts AKIDDEV=333333333333,AKIDCI=444444444444 --deny 222222222222 2>sim2.log &
SIM=$!
until [ -s env ]; do sleep 0.1; done
. ./env
$B sync --wait --plan plan.yaml --log-level warn; echo "exit $?"
kill $SIM; wait $SIM 2>/dev/null
