#!/bin/bash
# wait-share.sh AFISYNC PORT [SIM] — issue 13's headline with real processes:
# `afisync sync --wait` of 300 AFIs × 4 regions, share_with one account,
# against `afisync sim --throttle` (EC2's real buckets), 50 ms a call, copies
# pending 30 s ± 20%; then the in-sync rerun (a plain sync) and its calls.
# SIM is the binary that serves the simulator (default: AFISYNC), so that two
# afisync builds can be measured against the same simulator. Run it in an
# empty directory: it writes seed.yaml, plan.yaml, out*.txt, stats*.json.
# Needs bc, curl and python3. docs/performance.md records its output.
set -u
B=$1; P=$2; SIM=${3:-$1}; E=http://127.0.0.1:$P
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
{ echo "images:"; for i in $(seq 1 300); do printf '  - {id: afi-0%016x, region: us-east-1}\n' $i; done; } > seed.yaml
{ printf 'version: 1\nname: fleet\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2, eu-west-1, eu-west-2, eu-central-1]\n  share_with: ["444455556666"]\nafis:\n'
  for i in $(seq 1 300); do printf '  - id: afi-0%016x\n' $i; done; } > plan.yaml
$SIM sim --listen 127.0.0.1:$P --seed seed.yaml --throttle --latency 50ms --copy-time 30s --jitter 0.2 >/dev/null 2>&1 & SIMPID=$!; sleep 1
s=$(date +%s.%N); $B sync --plan plan.yaml --endpoint-url $E --wait --no-progress > out.txt 2> err.txt; rc=$?; e=$(date +%s.%N)
echo "$(basename $B): sync --wait exit $rc in $(printf %.1f $(echo "$e - $s" | bc)) s: $(tail -1 out.txt)"
curl -s $E/_sim/stats > stats1.json
s=$(date +%s.%N); $B sync --plan plan.yaml --endpoint-url $E --no-progress > out2.txt 2>&1; rc=$?; e=$(date +%s.%N)
curl -s $E/_sim/stats > stats2.json
python3 - <<'PY'
import json, collections
def counts(f):
    c=collections.Counter()
    for x in json.load(open(f))["calls"]:
        c[x["action"]]+=x["count"]
    return c
a, b = counts('stats1.json'), counts('stats2.json')
d={k: b[k]-a[k] for k in b if b[k]-a[k]}
print("  in-sync rerun calls:", ", ".join(f"{k} {v}" for k,v in sorted(d.items())))
PY
echo "  rerun: exit $rc in $(printf %.1f $(echo "$e - $s" | bc)) s: $(tail -1 out2.txt)"
kill $SIMPID
