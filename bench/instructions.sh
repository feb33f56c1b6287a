#!/usr/bin/env bash
# Instructions per answer, GraphQL plain page vs the bare handler (issue 12, bench/README.md):
# bench_server runs under `valgrind --tool=callgrind` (instrumentation off while it starts),
# warms both paths up, then counts every instruction the server executes for N GraphQL
# answers and, separately, for N bare answers, one keep-alive connection each. Unlike
# req/s on this 2-core machine (±8 % run to run), the counts repeat to the instruction for
# the same binary and store, so a change of a few thousand instructions per answer shows.
# They do not show cache misses or the kernel's share: read them beside the load tool's CPU
# per answer, not instead of it. Usage (SQLite store seeded by bench_server on first use):
#   bash bench/instructions.sh [BENCH_SERVER_BIN] [DATA_DIR] [N]
# Prints instructions per answer for each path and the top functions by the difference.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/examples/bench_server}
dir=${2:-$(mktemp -d)}
n=${3:-200}
# PAGE=filtered compares issue 12's filtered page (category + tag + text, totalCount, health
# and credentials) with `/bare/filtered` instead; point DATA_DIR at a store seeded with
# 100,000 rows (bench_server seeds only up to N rows it lacks), or the filter matches little.
# QUERY replaces the GraphQL side's query (e.g. with `__typename` beside the root field,
# which takes the executor instead of the compiled plan: graphql::compiled).
page=${PAGE:-plain}
case $page in
  plain)
    default_query='{ integrations(first: 50) { edges { node { id name status } } } }'
    bare_path=/bare ;;
  filtered)
    default_query='{ integrations(first: 50, filter: { category: PROJECT_MANAGEMENT, tag: "team-042", text: "jira" }) { totalCount edges { node { id name status category tags health { status } credentials { kind } } } } }'
    bare_path='/bare/filtered?category=PROJECT_MANAGEMENT&tag=team-042&text=jira' ;;
  *) echo "PAGE is plain or filtered" >&2; exit 2 ;;
esac
query=${QUERY:-$default_query}
out=$(mktemp -d)
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg.%p" \
  "$bin" "$dir" 1000 >"$out/server.json" 2>"$out/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  [ -s "$out/server.json" ] && break
  sleep 1
done
[ -s "$out/server.json" ] || { echo "bench_server did not start:" >&2; cat "$out/server.err" >&2; exit 1; }

# One keep-alive connection, N requests, every answer checked.
requests() {
  python3 - "$out/server.json" "$1" "$2" "$query" "$bare_path" <<'EOF'
import http.client, json, sys, urllib.parse
info, kind, n, query, bare_path = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
url = urllib.parse.urlparse(info["graphql"] if kind == "graphql" else info["bare"])
path = url.path if kind == "graphql" else bare_path
conn = http.client.HTTPConnection(url.hostname, url.port)
body = json.dumps({"query": query})
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + info["token"]}
for _ in range(n):
    if kind == "graphql":
        conn.request("POST", path, body, headers)
    else:
        conn.request("GET", path)
    answer = conn.getresponse()
    data = answer.read()
    # The plain page has 50 rows; a filtered page's row count depends on the store.
    rows_ok = data.count(b'"status"') == 50 if bare_path == "/bare" else b'"totalCount"' in data
    if answer.status != 200 or b'"errors"' in data or b'"error"' in data or not rows_ok:
        sys.exit(f"{kind}: unexpected answer {answer.status}: {data[:300]!r}")
EOF
}

callgrind_control -i on "$server" >/dev/null
requests graphql 20
requests bare 20
callgrind_control -z "$server" >/dev/null
requests graphql "$n"
callgrind_control -d graphql "$server" >/dev/null
callgrind_control -z "$server" >/dev/null
requests bare "$n"
callgrind_control -d bare "$server" >/dev/null

profile() { ls "$out"/cg."$server".* | while read -r f; do grep -qx "desc: Trigger: dump $1" "$f" && echo "$f"; done | head -n 1; }
functions() {
  callgrind_annotate --threshold=100 "$(profile "$1")" 2>/dev/null |
    sed -nE 's/^ *([0-9,]+) \( *[0-9.]+%\)  (.*)$/\1\t\2/p' | tr -d ','
}
functions graphql >"$out/graphql.tsv"
functions bare >"$out/bare.tsv"
python3 - "$out/graphql.tsv" "$out/bare.tsv" "$n" <<'EOF'
import collections, sys
def load(path):
    counts = collections.Counter()
    for line in open(path):
        count, function = line.rstrip("\n").split("\t", 1)
        counts[function] += int(count)
    return counts
graphql, bare, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
total = "PROGRAM TOTALS"
print(f"instructions per answer: GraphQL {graphql[total] / n:,.0f}, bare {bare[total] / n:,.0f}, "
      f"GraphQL adds {(graphql[total] - bare[total]) / n:,.0f} ({graphql[total] / bare[total]:.3f}x)")
print("largest differences per answer (GraphQL - bare, self instructions):")
diff = {f: graphql[f] - bare[f] for f in set(graphql) | set(bare) if f != total}
for function, d in sorted(diff.items(), key=lambda kv: -abs(kv[1]))[:25]:
    print(f"  {d / n:>9,.0f}  {function[:140]}")
EOF
