#!/usr/bin/env bash
# make pgo: regenerate cmd/flowaudit/default.pgo, the CPU profile from which
# the Go toolchain optimises flowaudit (profile-guided optimisation; go
# build finds the file by itself). The profile is of `flowaudit flows` and
# `flowaudit analyze` on a capture with the make-bench traffic mix, run by
# a binary built without the current profile. Commit the new file.
#
# Environment:
#   PGO_FLOWS  flows in the generated capture (default 100000, about 2M packets)
#   PGO_RUNS   profiled runs of flows (default 6; analyze runs a third as often)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d /tmp/flowaudit-pgo.XXXXXX)
trap 'rm -rf "$work"' EXIT

go build -pgo=off -o "$work/flowaudit" ./cmd/flowaudit
go build -o "$work/pcapgen" ./cmd/pcapgen
"$work/pcapgen" -kind bench -seed 1 -flows "${PGO_FLOWS:-100000}" -o "$work/mix.pcap" >&2

runs=${PGO_RUNS:-6}
profiles=()
for i in $(seq "$runs"); do
	"$work/flowaudit" flows -f jsonl --cpuprofile "$work/flows$i.pprof" "$work/mix.pcap" >/dev/null
	profiles+=("$work/flows$i.pprof")
	if [ $((i % 3)) = 0 ]; then
		"$work/flowaudit" analyze --fail-on none --cpuprofile "$work/analyze$i.pprof" "$work/mix.pcap" >/dev/null 2>&1
		profiles+=("$work/analyze$i.pprof")
	fi
done
go tool pprof -proto "${profiles[@]}" >"$work/default.pgo" 2>/dev/null
mv "$work/default.pgo" cmd/flowaudit/default.pgo
echo "wrote cmd/flowaudit/default.pgo from ${#profiles[@]} profiles" >&2
