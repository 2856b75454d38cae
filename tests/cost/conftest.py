"""The cost tests' fixtures: the Worker's operations table, and the messages a preview logs."""

import pulumi
import pytest

from infra.cost import operations


@pytest.fixture
def table():
    """The Worker's own table (worker/operations.json): every figure the cost tests check follows it."""
    return operations.load_operations()


@pytest.fixture
def logged(monkeypatch):
    """What the program logs through pulumi.log (a preview's warnings and notes)."""
    messages = {"warn": [], "info": []}
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: messages["warn"].append(message))
    monkeypatch.setattr(pulumi.log, "info", lambda message, *a, **k: messages["info"].append(message))
    return messages
