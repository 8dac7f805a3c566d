#!/usr/bin/env bash
# Rewrites the "## Configuration reference" section of docs/OPERATIONS.md (c10k serve) and
# docs/PROXY.md (c10k proxy) from the binary's --config-reference, after a flag changed. The
# tests (ConfigReference) fail until the docs say what the binary says.
#   scripts/sync-config-reference.sh [path/to/c10k]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-build/c10k}
if [ ! -x "$binary" ]; then
  echo "sync-config-reference: no c10k binary at $binary (build it, or give its path)" >&2
  exit 2
fi
sync() {
    local command=$1 doc=$2
    python3 - "$doc" <("$binary" "$command" --config-reference) <<'PY'
import sys
doc_path, reference_path = sys.argv[1], sys.argv[2]
doc = open(doc_path).read()
reference = open(reference_path).read()
if not reference.strip():
    sys.exit(f"sync-config-reference: the binary printed no reference for {doc_path}")
heading = "\n## Configuration reference\n\n"
at = doc.index(heading) + len(heading)
end = doc.find("\n## ", at)
rest = "" if end < 0 else "\n" + doc[end + 1:]
open(doc_path, "w").write(doc[:at] + reference + rest)
PY
}
sync serve docs/OPERATIONS.md
sync proxy docs/PROXY.md
