#!/usr/bin/env bash
# The main job: the demo park, live. Installs what is missing, then runs `parktwin demo`: an
# embedded mosquitto, the simulator at a time warp, the collectors, the twin and the alerts in
# one process, with a live summary here and the twin view in a browser (its address is printed).
# It stores every reading in InfluxDB: the one answering at PARKTWIN_INFLUX__URL (default
# http://127.0.0.1:8086), else Debian's influxd started with its data in var/demo/influxdb/
# (query it with the `influx` command it prints; `parktwin demo-db` serves it after the demo).
# Ctrl-C stops it; run it again and the same simulated day continues (state in var/demo/; delete
# it to start afresh). `scripts/demo.sh --history 90d` starts a fresh one with 90 days of past.
# SPEED (simulated seconds per second, default 60) and DURATION (seconds; default: until Ctrl-C)
# adjust it; other arguments go to `parktwin demo` (see `parktwin demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
args=(--speed "${SPEED:-60}")
[ -n "${DURATION:-}" ] && args+=(--duration "$DURATION")
exec .venv/bin/parktwin demo "${args[@]}" "$@"
