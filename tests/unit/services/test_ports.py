"""``saldo.services.ports`` offers every port by name, though it imports most of its modules
only when one of their names is first asked for (docs/performance.md, "CLI start")."""

from __future__ import annotations

import importlib
import inspect

import pytest

import saldo.services.ports as ports

# The modules of records and repositories the unit of work gathers (the gateways' ports,
# sms, mail, webhooks and the payment processors', are imported from their modules).
PORT_MODULES = (
    *("access", "auto_payments", "charging", "conversations", "jobs", "ledger", "lines"),
    *("operators", "orders", "outbox", "plans", "rates", "usage", "vouchers"),
)


@pytest.mark.parametrize("name", ports.__all__)
def test_every_port_is_found_in_the_package_and_is_its_module_s_own(name: str) -> None:
    # when a name of the package is asked for
    found = getattr(ports, name)

    # then it is the class its module defines
    module = inspect.getmodule(found)
    assert module is not None and module.__name__.startswith("saldo.services.ports")
    assert getattr(importlib.import_module(module.__name__), name) is found


def test_a_name_the_package_does_not_offer_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchPort"):
        _ = ports.NoSuchPort  # type: ignore[attr-defined]


def test_every_module_of_the_package_offers_its_names_there() -> None:
    # given each module's public classes
    for module_name in PORT_MODULES:
        module = importlib.import_module(f"saldo.services.ports.{module_name}")
        defined = {
            name
            for name, value in vars(module).items()
            if inspect.isclass(value)
            and value.__module__ == module.__name__
            and not name.startswith("_")
        }

        # then the package lists every one of them
        assert sorted(defined - set(ports.__all__)) == [], module_name
