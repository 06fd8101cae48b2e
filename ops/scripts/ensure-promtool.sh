#!/usr/bin/env bash
# Makes sure promtool (Prometheus' rule checker, from Debian's `prometheus` package) is installed: the build's
# PromtoolRulesTest runs it on ops/monitoring/prometheus/. Instant when promtool is already on PATH.
# Exit 0: promtool is there. Exit 3: apt could be used but the install failed (the build fails: fix the machine).
# Exit 4: no package manager can install it here (not root and no password-less sudo, or no apt-get):
#         the rule tests are skipped, with this message in the build output.
set -uo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "promtool not found and apt-get is not available: install Prometheus' promtool to run the alert-rule tests" >&2
  exit 4
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "promtool not found and apt-get needs root here (no password-less sudo): run 'apt-get install prometheus' to run the alert-rule tests" >&2
  exit 4
fi
echo "promtool not found: installing Debian's prometheus package (it ships promtool)" >&2
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (a parallel build) instead of failing on its lock.
apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends)
if ! "${apt[@]}" install prometheus >&2; then
  # A fresh machine may have no package lists yet.
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 -q update >&2 && "${apt[@]}" install prometheus >&2
fi
if ! command -v promtool >/dev/null 2>&1; then
  echo "installing the prometheus package did not provide promtool" >&2
  exit 3
fi
# Debian's package starts a Prometheus server where an init system runs; the tests need only promtool.
exit 0
