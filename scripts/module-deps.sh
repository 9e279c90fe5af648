#!/usr/bin/env bash
# Lists, for each top-level module of socketio-core, the other top-level modules it names as
# `crate::X`, then asks tsort(1) whether they import each other in a cycle (issue #12: they
# should not). Exit status 1 when there is a cycle.
set -euo pipefail
cd "$(dirname "$0")/../socketio-core/src"
edges=$(for f in *.rs */; do
  m=${f%.rs}; m=${m%/}
  [ "$m" = lib ] && continue
  for d in $(grep -rhoE 'crate::[a-z_0-9]+' "$f" | sed 's/crate:://' | sort -u); do
    [ "$d" != "$m" ] && [ -e "$d.rs" -o -d "$d" ] && echo "$d $m"
  done
done)
echo "$edges" | awk '{deps[$2] = deps[$2] " " $1} END {for (m in deps) print m ":" deps[m]}' | sort
if echo "$edges" | tsort >/dev/null 2>/tmp/module-deps.$$; then
  echo "no cycle"; rm -f /tmp/module-deps.$$
else
  echo "modules on a cycle: $(grep -v 'input contains a loop' /tmp/module-deps.$$ | sed 's/^tsort: //' | sort -u | tr '\n' ' ')"
  rm -f /tmp/module-deps.$$; exit 1
fi
