#!/usr/bin/env bash
# Every benchmark, one after the other (`make bench`).
set -u
cd "$(dirname "$0")/.."
st=0
echo "== bench/exits"
bench/exits || st=1
echo "== bench/emu"
bench/emu/run || st=1
echo "== bench/boot"
bench/boot/run || st=1
exit $st
