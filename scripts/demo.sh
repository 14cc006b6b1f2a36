#!/usr/bin/env bash
# The main job, for now: the demo park's simulator publishes over MQTT for a minute while the
# collectors store every reading in InfluxDB and the twin computes the park's KPIs; then the
# counts are compared and the twin's summary is shown. It starts its own
# mosquitto and InfluxDB 1.x on free loopback ports in a temporary folder and stops them after.
# DURATION (seconds, default 60) and SPEED (simulated seconds per second, default 60) adjust it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
duration=${DURATION:-60}
speed=${SPEED:-60}
work=$(mktemp -d -t parktwin-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mqtt_port=$(port); influx_port=$(port); rpc_port=$(port)
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)

cat >"$work/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/
max_inflight_messages 0
max_queued_messages 0
CONF
cat >"$work/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc_port"
[meta]
  dir = "$work/meta"
[data]
  dir = "$work/data"
  wal-dir = "$work/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$influx_port"
  log-enabled = false
CONF
"$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 & pids+=($!)
influxd -config "$work/influxdb.conf" >"$work/influxdb.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$influx_port/ping" >/dev/null && break; sleep 0.2; done

echo "demo: mosquitto on 127.0.0.1:$mqtt_port, InfluxDB on http://127.0.0.1:$influx_port (database parktwin)"
export PARKTWIN_MQTT__HOST=127.0.0.1 PARKTWIN_MQTT__PORT=$mqtt_port
export PARKTWIN_INFLUX__URL=http://127.0.0.1:$influx_port PARKTWIN_INFLUX__DATABASE=parktwin
export PARKTWIN_SPOOL__FOLDER=$work/spool PARKTWIN_TWIN__CHECKPOINT_FOLDER=$work/twin
export PARKTWIN_API__PORT=0 PARKTWIN_TWIN__TICK_S=2
# Time-warped event times run ahead of the wall clock: accept them for the demo's span.
export PARKTWIN_COLLECTOR__MAX_FUTURE_S=$((duration * speed + 86400))
.venv/bin/parktwin run --duration $((duration + 5)) --log-level WARNING >"$work/collect.out" 2>&1 &
collect_pid=$!; pids+=($collect_pid)
sleep 2
.venv/bin/parktwin simulate --duration "$duration" --speed "$speed" --log-level WARNING \
  --ledger "$work/ledger.csv"
wait "$collect_pid" || true
echo "collectors and twin:"; cat "$work/collect.out"
echo "twin summary (retained on parks/mingxi/twin/state):"
state=$(mosquitto_sub -p "$mqtt_port" -t parks/mingxi/twin/state -C 1 -W 5)
.venv/bin/python - "$state" <<'PY'
import json, sys
k = json.loads(sys.argv[1])
today, cpe = k["today"] or {}, k["carbon_per_energy"] or {}
print(f"  simulated time {k['local_time']}")
print(f"  today: grid import {today.get('grid_import_kwh', 0):.0f} kWh,"
      f" PV {today.get('pv_generation_kwh', 0):.0f} kWh, gas {today.get('gas_m3', 0):.0f} m3")
print(f"  carbon per unit of energy {cpe.get('value') or 0:.2f} t CO2/tce"
      f" (threshold {cpe.get('threshold')})")
print(f"  people present {k['persons_present']}, devices {k['devices']}")
PY

published=$(sort -u "$work/ledger.csv" | wc -l)
stored=$(curl -sG "http://127.0.0.1:$influx_port/query" --data-urlencode db=parktwin \
  --data-urlencode 'q=SELECT count(*) FROM electricity, gas, heat, water, fuel, occupancy, air, emissions GROUP BY device' |
  .venv/bin/python -c 'import json,sys; r=json.load(sys.stdin)["results"][0]
print(sum(max(v for v in s["values"][0][1:] if v is not None) for s in r.get("series",[])))')
echo "demo: readings published $published, readings stored in InfluxDB $stored"
[ "$published" = "$stored" ] && echo "demo: every published reading is stored" || {
  echo "demo: counts differ" >&2; exit 1; }
