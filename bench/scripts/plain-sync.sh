#!/bin/bash
# plain-sync.sh AFISYNC PORT N R — issue 22's measurement with real
# processes: a plain `afisync sync` (no --wait) of N AFIs into R regions (at
# most 4) against `afisync sim --throttle` (EC2's real buckets), 50 ms a
# call, from an empty start, timed from the process's start to its exit,
# next to the CopyFpgaImage bucket's floor, max(0, N − 50)/5 s. Run it in an
# empty directory: it writes seed.yaml, plan.yaml, out.txt, err.txt. Needs
# bc. docs/performance.md records its output.
set -u
B=$1; P=$2; N=$3; R=$4; E=http://127.0.0.1:$P
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
regions=$(echo us-west-2 eu-west-1 eu-west-2 eu-central-1 | cut -d' ' -f1-"$R" | sed 's/ /, /g')
{ echo "images:"; for i in $(seq 1 "$N"); do printf '  - {id: afi-0%016x, region: us-east-1}\n' "$i"; done; } > seed.yaml
{ printf 'version: 1\nname: fleet\ndefaults:\n  source_region: us-east-1\n  regions: [%s]\nafis:\n' "$regions"
  for i in $(seq 1 "$N"); do printf '  - id: afi-0%016x\n' "$i"; done; } > plan.yaml
$B sim --listen 127.0.0.1:"$P" --seed seed.yaml --throttle --latency 50ms >/dev/null 2>&1 & SIMPID=$!; sleep 1
s=$(date +%s.%N); $B sync --plan plan.yaml --endpoint-url "$E" --no-progress > out.txt 2> err.txt; rc=$?; e=$(date +%s.%N)
wall=$(echo "$e - $s" | bc); floor=$(echo "if ($N > 50) ($N - 50) / 5 else 0" | bc -l)
printf '%s: %d×%d sync exit %d in %.2f s, floor %.1f s, %.3f×: %s\n' "$(basename "$B")" "$N" "$R" "$rc" "$wall" "$floor" \
  "$(echo "if ($floor > 0) $wall / $floor else 0" | bc -l)" "$(tail -1 out.txt)"
kill $SIMPID; wait $SIMPID 2>/dev/null
