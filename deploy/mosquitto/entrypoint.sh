#!/bin/sh
# Writes mosquitto's password file from the environment, then starts the broker. Passwords are
# hashed by mosquitto_passwd; the clear text lives only in the container's environment (.env).
set -eu
passwd=/mosquitto/data/passwd
umask 077
rm -f "$passwd"
touch "$passwd"
mosquitto_passwd -b "$passwd" parktwin "${PARKTWIN_MQTT_PASSWORD:?set it in .env}"
mosquitto_passwd -b "$passwd" simulator "${SIMULATOR_MQTT_PASSWORD:?set it in .env}"
mosquitto_passwd -b "$passwd" operator "${OPERATOR_MQTT_PASSWORD:?set it in .env}"
chown mosquitto:mosquitto "$passwd" /mosquitto/data
exec mosquitto -c /deploy/mosquitto.conf
