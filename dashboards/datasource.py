"""The one InfluxDB datasource every panel refers to: InfluxQL, database = bucket on 2.x/3.x
(DBRP mapping), the v2 token sent as an ``Authorization: Token …`` header."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from parktwin.config import InfluxApi, InfluxSettings

DATASOURCE_UID = "parktwin-influxdb"
DATASOURCE_NAME = "parktwin InfluxDB"
DATASOURCE_REF = MappingProxyType({"type": "influxdb", "uid": DATASOURCE_UID})
# Readings arrive every minute or slower: a finer $__interval would only draw gaps.
MIN_INTERVAL = "1m"


def datasource_body(influx: InfluxSettings) -> dict[str, Any]:
    """The datasource as Grafana's HTTP API takes it (secrets in ``secureJsonData``)."""
    json_data: dict[str, Any] = {
        "version": "InfluxQL",
        "httpMode": "POST",
        "timeInterval": MIN_INTERVAL,
    }
    secure: dict[str, str] = {}
    body: dict[str, Any] = {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": "influxdb",
        "access": "proxy",
        "url": influx.url,
        "isDefault": False,
    }
    if influx.api is InfluxApi.V2:
        body["database"] = influx.bucket
        json_data |= {"dbName": influx.bucket, "httpHeaderName1": "Authorization"}
        if influx.token is not None:
            secure["httpHeaderValue1"] = f"Token {influx.token.get_secret_value()}"
    else:
        body["database"] = influx.database
        json_data["dbName"] = influx.database
        if influx.username:
            body["user"] = influx.username
            if influx.password is not None:
                secure["password"] = influx.password.get_secret_value()
    body["jsonData"] = json_data
    body["secureJsonData"] = secure
    return body
