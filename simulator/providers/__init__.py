"""Provider adapters: catalog data plus one thin module each (routes, bodies, callbacks)."""

from __future__ import annotations

import importlib
import logging

from simulator.providers.base import ProviderAdapter, ProviderContext

log = logging.getLogger("dlrsim.http")

#: Adapter modules by provider name; each defines `Adapter(ProviderAdapter)`.
PROVIDERS: tuple[str, ...] = ("infobip", "clickatell", "clicksend", "smsmode", "sinch")


def load_adapters(context: ProviderContext) -> list[ProviderAdapter]:
    adapters = []
    for name in PROVIDERS:
        try:
            module = importlib.import_module(f"simulator.providers.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"simulator.providers.{name}":
                raise
            log.warning("provider %s has no HTTP adapter in this build; its API is off", name)
            continue
        adapter: ProviderAdapter = module.Adapter(context)
        adapters.append(adapter)
    return adapters
