"""The channel registry refuses a channel module that breaks the ChannelModule contract."""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

import pytest

from hostkeeper.channels import MODULES, deliver, load_module
from hostkeeper.channels.base import DeliveryError, Message, utc_now
from hostkeeper.config.alerts import Channel, LogChannel
from hostkeeper.core.contracts import PluginContractError


def _register(monkeypatch: pytest.MonkeyPatch, name: str, **attributes: Any) -> None:
    module = types.ModuleType(f"test_channel_{name}")
    for attribute, value in attributes.items():
        setattr(module, attribute, value)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(MODULES, name, module.__name__)


@pytest.mark.parametrize("channel_type", sorted(MODULES))
def test_every_registered_channel_keeps_the_contract(channel_type: str) -> None:
    assert channel_type == load_module(channel_type).TYPE


def test_every_configurable_channel_type_has_a_module_and_no_other() -> None:
    members = typing.get_args(typing.get_args(Channel)[0])
    configurable = {typing.get_args(m.model_fields["type"].annotation)[0] for m in members}
    assert configurable == set(MODULES)


def test_a_channel_module_without_send_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _register(monkeypatch, "pager", TYPE="pager", CONFIG=LogChannel)
    with pytest.raises(PluginContractError) as refused:
        load_module("pager")
    assert str(refused.value) == (
        "channel 'pager' (test_channel_pager) does not provide send, required by ChannelModule"
    )


def test_a_channel_module_with_another_types_config_model_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _register(monkeypatch, "pager", TYPE="pager", CONFIG=LogChannel, send=lambda c, m: "sent")
    with pytest.raises(PluginContractError, match="'LogChannel' is the model of type log"):
        load_module("pager")


def test_delivery_through_a_broken_module_is_a_permanent_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _register(monkeypatch, "log", TYPE="log", CONFIG=LogChannel)
    message = Message(
        kind="test", rule="r", severity="info", state="test", summary="s", host="h", at=utc_now()
    )
    with pytest.raises(DeliveryError) as failed:
        deliver(LogChannel(name="journal", type="log"), message)
    assert not failed.value.transient
    assert "does not provide send" in str(failed.value)
