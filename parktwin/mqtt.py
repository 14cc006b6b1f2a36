"""MQTT settings made into clients: the TLS context every client uses, and aiomqtt clients for
the occasional publishes and reads (``parktwin inputs``, the tests). The hot paths, the intake
and the simulator's publisher, use ``parktwin.wire`` instead."""

from __future__ import annotations

import ssl

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from parktwin.config import MqttSettings


def tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    """An SSL context from the TLS settings, or None for plain TCP."""
    tls = settings.tls
    if tls is None:
        return None
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file is not None:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file) if tls.key_file else None)
    if tls.insecure:
        context.check_hostname = False
    return context


def make_client(settings: MqttSettings, identifier: str | None = None) -> aiomqtt.Client:
    """A v5 client with a clean session, the settings' credentials, TLS and Receive Maximum."""
    properties = Properties(PacketTypes.CONNECT)
    properties.ReceiveMaximum = settings.receive_maximum
    password = settings.password.get_secret_value() if settings.password else None
    return aiomqtt.Client(
        settings.host,
        settings.port,
        identifier=identifier,
        username=settings.username,
        password=password,
        protocol=aiomqtt.ProtocolVersion.V5,
        keepalive=settings.keepalive_s,
        properties=properties,
        tls_context=tls_context(settings),
        tls_insecure=settings.tls.insecure if settings.tls else None,
        timeout=10,
    )
