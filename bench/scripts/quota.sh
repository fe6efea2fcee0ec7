#!/bin/bash
# quota.sh AFISYNC — issue 21's done-when scenario with real processes:
# `afisync sim --afi-limit 20` holding 8 shell-N builds in us-east-1 and, in
# us-west-2, 15 other AFIs plus this plan's copies of shell-1…3 (18 held).
# A plan selecting shell-* into us-west-2 and eu-west-1 runs with
# --afi-limit 20: without a retention rule (0 copies in us-west-2, exit 1),
# then with retain: {keep_last: 5} (diff -o json shows the headroom; sync
# deletes 3 in us-west-2 before its 5 copies there). Run it in an empty
# directory: it writes seed.yaml, *.yaml plans and env. Needs curl and
# python3. README's "AFI quota and headroom" records its output.
set -u
A=$1
python3 - <<'PY'
lines = ["images:"]
for i in range(1, 9):
    lines.append(f"  - {{id: afi-0{0x5e11000 + i:016x}, region: us-east-1, name: shell-{i}, create_time: 2026-11-{10 + i:02d}T00:00:00Z}}")
for i in range(15):
    lines.append(f"  - {{region: us-west-2, name: other-{i}}}")
open("seed.yaml", "w").write("\n".join(lines) + "\n")
ids = [f"afi-0{0x5e11000 + i:016x}" for i in range(1, 4)]
open("first.yaml", "w").write("version: 1\nname: nightly\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n" + "".join(f"  - id: {x}\n" for x in ids))
base = "version: 1\nname: nightly\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2, eu-west-1]\n%safis:\n  - select: {name: \"shell-*\"}\n"
open("nightly.yaml", "w").write(base % "")
open("nightly-retain.yaml", "w").write(base % "  retain: {keep_last: 5}\n")
PY
rm -f env
$A sim --listen 127.0.0.1:0 --afi-limit 20 --copy-time 0s --seed seed.yaml --env-file env >sim.log 2>&1 &
SIM=$!
until [ -s env ]; do sleep 0.1; done
. ./env
export AWS_EC2_METADATA_DISABLED=true
stats() { curl -s "$AWS_ENDPOINT_URL/_sim/stats"; }
echo "== first sync: this plan's copies of shell-1..3 in us-west-2"
$A sync --plan first.yaml --no-progress | tail -1
echo "== held:"; stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["afis"])'
curl -s -X DELETE "$AWS_ENDPOINT_URL/_sim/stats" >/dev/null
echo "== sync --afi-limit 20 (no retention)"
$A sync --plan nightly.yaml --afi-limit 20 --no-progress; echo "exit $?"
echo "== CopyFpgaImage calls:"; stats | python3 -c 'import json,sys; print([(c["region"], c["outcome"], c["count"]) for c in json.load(sys.stdin)["calls"] if c["action"] == "CopyFpgaImage"])'
echo "== diff -o json --afi-limit 20, retain {keep_last: 5}: quota"
$A diff --plan nightly-retain.yaml --afi-limit 20 -o json --no-progress | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d["quota"])); print(d["summary"])'
curl -s -X DELETE "$AWS_ENDPOINT_URL/_sim/stats" >/dev/null
echo "== sync --afi-limit 20, retain {keep_last: 5}"
$A sync --plan nightly-retain.yaml --afi-limit 20 --no-progress </dev/null; echo "exit $?"
echo "== us-west-2 copies and deletes, and what each region holds:"
stats | python3 -c 'import json,sys; d=json.load(sys.stdin); print([(c["action"], c["outcome"], c["count"]) for c in d["calls"] if c["region"] == "us-west-2" and c["action"] in ("CopyFpgaImage", "DeleteFpgaImage")]); print(d["afis"])'
kill $SIM
wait $SIM 2>/dev/null
