"""The pytest plugin (entry point `pytest11: dlrsim`): installing dlrsim is enough.

Fixtures:
- `dlrsim_server` (session): a factory keeping one running simulator per distinct settings,
  so a suite pays the start once and the ports stay the same from test to test;
- `dlrsim_settings` (override it in a conftest): provider, scenario, seed, accounts, options;
- `dlrsim` (function): the running simulator for this test, reset before it starts; a
  `Controller` for sync tests, an `AsyncController` on the test's loop for async ones;
- `dlrsim_clock`: the simulated clock of that simulator.
The marker `@pytest.mark.dlrsim(scenario=..., provider=..., seed=..., accounts=...,
options=...)` changes the settings of one test (or a module, with `pytestmark`).

Imports of the simulator happen inside the fixtures, so merely having dlrsim installed costs
other test suites nothing at start-up.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from simulator.catalog.registry import CatalogRegistry
    from simulator.testing.aio import AsyncController
    from simulator.testing.base import ClockControl
    from simulator.testing.controller import Controller
    from simulator.testing.options import DlrsimSettings

F = TypeVar("F", bound=Callable[..., Any])


def _async_fixture(function: F) -> F:
    """An async fixture in pytest-asyncio's strict and auto modes alike (when installed)."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - async tests then need another plugin anyway
        decorated: Any = pytest.fixture(function)
    else:
        decorated = pytest_asyncio.fixture(function)
    return decorated  # type: ignore[no-any-return]


MARKER = (
    "dlrsim(scenario=None, provider=None, seed=None, accounts=None, options=None): "
    "settings of the dlrsim simulator this test gets (scenario: file, shipped name or dict)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


class SimulatorPool:
    """The `dlrsim_server` factory: `dlrsim_server(settings)` gives a started `Controller`."""

    def __init__(self) -> None:
        self._running: dict[str, Controller] = {}
        self._ports: dict[str, int] = {}
        self._registry: CatalogRegistry | None = None

    @property
    def registry(self) -> CatalogRegistry:
        if self._registry is None:
            from simulator.testing.options import shared_registry

            self._registry = shared_registry()
        return self._registry

    def __call__(
        self, settings: DlrsimSettings | Mapping[str, Any] | None = None, **changes: Any
    ) -> Controller:
        from simulator.testing.controller import Controller
        from simulator.testing.options import coerce_settings

        wanted = coerce_settings(settings).merged(**changes)
        key = wanted.key()
        controller = self._running.get(key)
        if controller is None:
            controller = Controller(wanted, registry=self.registry).start()
            self._running[key] = controller
            self._ports[key] = controller.smpp_address[1]
        return controller

    def port_for(self, settings: DlrsimSettings) -> int:
        """The port simulators with these settings had before (0: none yet)."""
        return self._ports.get(settings.key(), 0)

    def remember_port(self, settings: DlrsimSettings, port: int) -> None:
        self._ports.setdefault(settings.key(), port)

    def close(self) -> None:
        running, self._running = list(self._running.values()), {}
        errors: list[BaseException] = []
        for controller in running:
            try:
                controller.stop()
            except Exception as error:  # stop them all, then report
                errors.append(error)
        if errors:
            raise errors[0]


def _wanted_settings(request: pytest.FixtureRequest, base: Any) -> DlrsimSettings:
    """`dlrsim_settings`, then the markers from the widest scope to the test's own."""
    from simulator.testing.options import coerce_settings

    settings = coerce_settings(base)
    for marker in reversed(list(request.node.iter_markers("dlrsim"))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.dlrsim takes keyword arguments only")
        settings = settings.merged(**marker.kwargs)
    return settings


def _is_async_test(request: pytest.FixtureRequest) -> bool:
    function = getattr(request, "function", None)
    return inspect.iscoroutinefunction(function) or (
        request.node.get_closest_marker("asyncio") is not None
        and inspect.iscoroutinefunction(getattr(function, "__wrapped__", None))
    )


@pytest.fixture(scope="session")
def dlrsim_server() -> Iterator[SimulatorPool]:
    """Session-wide simulators, one per distinct settings (see `SimulatorPool`)."""
    pool = SimulatorPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def dlrsim_settings() -> DlrsimSettings | Mapping[str, Any] | None:
    """Override in a conftest to change every test's simulator; a dict works too."""
    return None


@pytest.fixture
def dlrsim(
    request: pytest.FixtureRequest,
    dlrsim_server: SimulatorPool,
    dlrsim_settings: DlrsimSettings | Mapping[str, Any] | None,
) -> Iterator[Controller | AsyncController]:
    """A running simulator, reset for this test; errors inside it fail the test at teardown."""
    if _is_async_test(request):
        controller: Controller | AsyncController = request.getfixturevalue("_dlrsim_async")
        yield controller
        return
    sync = dlrsim_server(_wanted_settings(request, dlrsim_settings))
    sync.reset()
    yield sync
    sync.raise_errors()


@_async_fixture
async def _dlrsim_async(
    request: pytest.FixtureRequest,
    dlrsim_server: SimulatorPool,
    dlrsim_settings: DlrsimSettings | Mapping[str, Any] | None,
) -> AsyncIterator[AsyncController]:
    """For async tests: a simulator on the test's own loop, on the port these settings had."""
    from simulator.testing.aio import AsyncController

    settings = _wanted_settings(request, dlrsim_settings)
    controller = AsyncController(
        settings, registry=dlrsim_server.registry, port=dlrsim_server.port_for(settings)
    )
    try:
        await controller.start()
    except OSError:  # the port is taken (by a sync simulator with these settings): any port
        controller = AsyncController(settings, registry=dlrsim_server.registry)
        await controller.start()
    dlrsim_server.remember_port(settings, controller.smpp_address[1])
    try:
        yield controller
    finally:
        await controller.stop()
    controller.raise_errors()


@pytest.fixture
def dlrsim_clock(dlrsim: Controller | AsyncController) -> ClockControl:
    """The simulated clock of this test's simulator: `advance(seconds)`, `run_until_idle()`."""
    return dlrsim.clock
