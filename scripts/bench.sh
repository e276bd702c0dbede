#!/usr/bin/env bash
# End-to-end benchmark (make bench): generate a ~4M-packet capture with
# cmd/pcapgen, then time flowaudit on it against a bare pcapgo read, tshark
# and argus. Prints wall time, packets/s and peak RSS of each, and ratios.
#
# Environment:
#   BENCH_FILE   capture path (default /tmp/flowaudit-bench.pcap)
#   BENCH_FLOWS  flows to generate (default 200000, about 4.1M packets)
#   BENCH_SEED   generator seed (default 1)
#   BENCH_REGEN  1 forces regeneration (otherwise the capture is reused when
#                seed, flow count and generator sources are unchanged)
#   BENCH_TOOLS  space-separated subset of: read flows analyze tshark argus,
#                and the unpinned runs of issue 17's two-core target: flows-all
#                analyze-all sha256-all (default: all of them; the -all ones
#                only on a machine of more than one CPU)
#   FLOWAUDIT    flowaudit binary to use (default: bin/flowaudit if present,
#                else built into a temp dir)
#   BENCH_CPU    the one CPU every tool is pinned to with taskset (default 0;
#                "none" runs unpinned), so all are measured on one core
#   BENCH_ROUNDS rounds (default 3): each round runs every tool once, in
#                turn, so that load from elsewhere on the machine falls on
#                all of them alike; each tool's median round is reported
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
file=${BENCH_FILE:-/tmp/flowaudit-bench.pcap}
flows=${BENCH_FLOWS:-200000}
seed=${BENCH_SEED:-1}
tools=${BENCH_TOOLS:-read flows analyze tshark argus flows-all analyze-all sha256-all}
if [ "$(nproc)" -lt 2 ] && [ -z "${BENCH_TOOLS:-}" ]; then
	tools="read flows analyze tshark argus"
fi
work=$(mktemp -d /tmp/flowaudit-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

note() { printf '%s\n' "$*" >&2; }

# --- tools --------------------------------------------------------------
need_pkgs=()
[ -x /usr/bin/time ] || need_pkgs+=(time)
case " $tools " in *" tshark "*) command -v tshark >/dev/null || need_pkgs+=(tshark) ;; esac
case " $tools " in *" argus "*)
	command -v argus >/dev/null || need_pkgs+=(argus-server)
	command -v ra >/dev/null || need_pkgs+=(argus-client) ;;
esac
if [ ${#need_pkgs[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		note "installing ${need_pkgs[*]} with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null && apt-get install -y -qq "${need_pkgs[@]}" >/dev/null ||
			note "apt-get install failed; missing tools are skipped"
	else
		note "missing ${need_pkgs[*]} (run as root to install them with apt-get); skipped"
	fi
fi
if [ ! -x /usr/bin/time ]; then
	note "GNU time (/usr/bin/time) is required"
	exit 1
fi

# --- binaries -----------------------------------------------------------
go build -o "$work/pcapgen" ./cmd/pcapgen || exit 1
fa=${FLOWAUDIT:-}
if [ -z "$fa" ] && [ -x bin/flowaudit ]; then
	fa=bin/flowaudit
fi
if [ -z "$fa" ]; then
	if go build -o "$work/flowaudit" ./cmd/flowaudit 2>"$work/build.err"; then
		fa=$work/flowaudit
	else
		note "flowaudit does not build; its rows are skipped:"
		head -5 "$work/build.err" >&2
	fi
fi

# --- capture ------------------------------------------------------------
stamp="$seed $flows $(cat analyzer/pcapgen/*.go cmd/pcapgen/*.go | sha256sum | cut -c1-16)"
if [ "${BENCH_REGEN:-0}" = 1 ] || [ ! -s "$file" ] || [ "$(cat "$file.stamp" 2>/dev/null)" != "$stamp" ]; then
	note "generating $file ($flows flows, seed $seed)"
	"$work/pcapgen" -kind bench -o "$file" -seed "$seed" -flows "$flows" >&2 || exit 1
	echo "$stamp" >"$file.stamp"
fi
packets=$("$work/pcapgen" read "$file" | sed -n 's/.*: \([0-9]*\) packets,.*/\1/p')
size=$(stat -c %s "$file")
note "capture: $file, $packets packets, $size bytes"
# The capture is dropped from the page cache and read back once, so that in
# every run of make bench every tool reads it from memory in the same state:
# that of a capture read from disk. A file just written, as the generator
# leaves it, sits in the page cache in 4 KiB pieces, and mapping those costs
# flows 0.05-0.09 s more; tools that read with read(2) do not notice.
# Pages not yet written back cannot be dropped: sync the file first.
if sync "$file" && dd if="$file" iflag=nocache count=0 status=none 2>/dev/null; then
	cat "$file" >/dev/null
else
	note "could not drop $file from the page cache; it is read as it is"
fi

# --- measurements -------------------------------------------------------
pin=()
if [ "${BENCH_CPU:-0}" != none ] && command -v taskset >/dev/null; then
	pin=(taskset -c "${BENCH_CPU:-0}")
	note "every tool runs pinned to CPU ${BENCH_CPU:-0} (one core), but the -all runs (every core)"
fi
declare -A wall rss status walls
order=()
# run NAME CMD...: time CMD once with GNU time -v, stdout discarded; adds the
# wall seconds to walls[NAME] and keeps the largest peak RSS (KiB; for a
# pipeline, that of its largest process).
run() {
	local name=$1
	shift
	case " ${order[*]} " in *" $name "*) ;; *) order+=("$name") ;; esac
	[ "${status[$name]:-ok}" = ok ] || return # failed in an earlier round
	local p=("${pin[@]}")
	case $name in *-all) p=() ;; esac # on every core
	/usr/bin/time -v -o "$work/$name.time" "${p[@]}" "$@" >/dev/null 2>"$work/$name.err"
	local rc=$?
	if grep -q 'not built yet' "$work/$name.err"; then
		status[$name]="skipped: not built yet"
		return
	fi
	if [ $rc -ne 0 ]; then
		status[$name]="failed (exit $rc): $(grep -v '^\s*$' "$work/$name.err" | head -1 | cut -c1-80)"
		return
	fi
	local w r
	w=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$name.time")
	w=$(awk -v t="$w" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }')
	r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$name.time")
	walls[$name]="${walls[$name]:-} $w"
	[ "${rss[$name]:-0}" -ge "$r" ] || rss[$name]=$r
	status[$name]=ok
}

rounds=${BENCH_ROUNDS:-3}
for round in $(seq "$rounds"); do
	note "round $round of $rounds"
	for t in $tools; do
		case $t in
		read) run "pcapgo-read" "$work/pcapgen" read "$file" ;;
		flows) [ -n "$fa" ] && run "flowaudit-flows" "$fa" flows -f jsonl "$file" ;;
		analyze) [ -n "$fa" ] && run "flowaudit-analyze" "$fa" analyze --fail-on none --max-services 262144 "$file" ;;
		tshark) command -v tshark >/dev/null && run "tshark-conv" tshark -n -q -z conv,tcp -z conv,udp -r "$file" ;;
		argus) command -v argus >/dev/null && command -v ra >/dev/null &&
			run "argus+ra" sh -c 'argus -r "$1" -w - | ra -r - -n' sh "$file" ;;
		flows-all) [ -n "$fa" ] && run "flows-all" "$fa" flows -f jsonl "$file" ;;
		analyze-all) [ -n "$fa" ] && run "analyze-all" "$fa" analyze --fail-on none --max-services 262144 "$file" ;;
		sha256-all) run "sha256-all" "$work/pcapgen" sha256 "$file" ;;
		*) note "unknown tool $t" ;;
		esac
	done
done
# wall[NAME] is the median round; spread[NAME] the fastest and slowest.
declare -A spread
for n in "${order[@]}"; do
	[ "${status[$n]:-}" = ok ] || continue
	sorted=$(printf '%s\n' ${walls[$n]} | sort -n)
	wall[$n]=$(printf '%s\n' "$sorted" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	spread[$n]=$(printf '%s\n' "$sorted" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }')
done

# --- report -------------------------------------------------------------
printf '\ncapture %s: %s packets, %s MB, %s flows generated (seed %s)\n' "$file" "$packets" "$((size / 1000000))" "$flows" "$seed"
printf 'machine: %s CPUs, %s; other load on the machine inflates times\n\n' "$(nproc)" "$(go env GOVERSION)"
printf 'median of %s rounds; wall range over the rounds in the last column\n\n' "$rounds"
printf '%-18s %10s %14s %12s  %s\n' tool "wall s" "packets/s" "peak RSS MB" status
for n in "${order[@]}"; do
	if [ "${status[$n]}" = ok ]; then
		awk -v n="$n" -v w="${wall[$n]}" -v p="$packets" -v r="${rss[$n]}" \
			-v s="${spread[$n]}" 'BEGIN { printf "%-18s %10.2f %14.0f %12.1f  ok (%s s)\n", n, w, (w > 0 ? p / w : 0), r / 1024, s }'
	else
		printf '%-18s %10s %14s %12s  %s\n' "$n" - - - "${status[$n]}"
	fi
done

ref=flowaudit-flows
if [ "${status[$ref]:-}" = ok ]; then
	printf '\nflowaudit flows vs others (wall time ratio flowaudit/other; <1 means flowaudit is faster; RSS ratio likewise)\n'
	for n in "${order[@]}"; do
		case $n in *-all) continue ;; esac # the two-core runs: below
		[ "$n" = "$ref" ] || [ "${status[$n]}" != ok ] && continue
		awk -v n="$n" -v a="${wall[$ref]}" -v b="${wall[$n]}" -v ra="${rss[$ref]}" -v rb="${rss[$n]}" \
			'BEGIN { printf "  vs %-16s time x%.2f (%s %.1fx %s)   memory x%.2f\n", n, (b > 0 ? a / b : 0), "flowaudit", (a > b ? a / b : b / a), (a > b ? "slower" : "faster"), (rb > 0 ? ra / rb : 0) }'
	done
else
	printf '\nno ratios: flowaudit flows did not run (%s)\n' "${status[$ref]:-not measured}"
fi

# Issue 17: analyze on every core (the digest on one, the packets on
# another) within 1.2x of flows on every core; the SHA-256 of the file
# alone (pcapgen sha256) is the floor no analysis can go below.
if [ "${status[flows-all]:-}" = ok ] && [ "${status[analyze-all]:-}" = ok ]; then
	printf '\non all %s CPUs (unpinned): analyze / flows = %s / %s s = x%s (issue 17: within x1.2)' "$(nproc)" \
		"${wall[analyze-all]}" "${wall[flows-all]}" "$(awk -v a="${wall[analyze-all]}" -v b="${wall[flows-all]}" 'BEGIN { printf "%.2f", a / b }')"
	if [ "${status[sha256-all]:-}" = ok ]; then
		printf '; the SHA-256 alone %s s = x%s' "${wall[sha256-all]}" "$(awk -v a="${wall[sha256-all]}" -v b="${wall[flows-all]}" 'BEGIN { printf "%.2f", a / b }')"
	fi
	printf '\n'
fi
