#!/bin/sh
# Writes mosquitto's password file from the environment, then starts the broker. Passwords are
# hashed by mosquitto_passwd; the clear text lives only in the container's environment (.env).
# Device accounts ("{park}/devices/{device}", docs/access.md) come from devices.passwd beside
# this script when it exists: a file made with mosquitto_passwd, so it holds only hashes.
# DEPLOY_DIR and MOSQUITTO_DATA name the folders (the container's by default; the tests' own).
set -eu
deploy="${DEPLOY_DIR:-/deploy}"
data="${MOSQUITTO_DATA:-/mosquitto/data}"
passwd="$data/passwd"
umask 077
rm -f "$passwd"
touch "$passwd"
mosquitto_passwd -b "$passwd" parktwin "${PARKTWIN_MQTT_PASSWORD:?set it in .env}"
mosquitto_passwd -b "$passwd" simulator "${SIMULATOR_MQTT_PASSWORD:?set it in .env}"
mosquitto_passwd -b "$passwd" operator "${OPERATOR_MQTT_PASSWORD:?set it in .env}"
# Accounts for collectors and a twin run apart (docs/scaling.md), when given passwords.
if [ -n "${COLLECTOR_MQTT_PASSWORD:-}" ]; then
  mosquitto_passwd -b "$passwd" collector "$COLLECTOR_MQTT_PASSWORD"
fi
if [ -n "${TWIN_MQTT_PASSWORD:-}" ]; then
  mosquitto_passwd -b "$passwd" twin "$TWIN_MQTT_PASSWORD"
fi
if [ -f "$deploy/devices.passwd" ]; then
  cat "$deploy/devices.passwd" >> "$passwd"
fi
if [ "$(id -u)" = 0 ] && id mosquitto > /dev/null 2>&1; then
  chown mosquitto:mosquitto "$passwd" "$data"
fi
exec mosquitto -c "$deploy/mosquitto.conf"
