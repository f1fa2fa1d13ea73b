"""One aiohttp server for everything HTTP: provider send APIs, later the control API and UI.

Parts of the simulator register their routes on the shared `web.Application` before it
starts; the server only listens and stops. Bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import cast

from aiohttp import web


class HttpServer:
    def __init__(self, *, client_max_size: int = 1024 * 1024) -> None:
        self.app = web.Application(client_max_size=client_max_size)
        self._runner: web.AppRunner | None = None
        self.addresses: list[tuple[str, int, bool]] = []

    def add_routes(self, routes: list[web.RouteDef]) -> None:
        self.app.add_routes(routes)

    async def listen(
        self, host: str, port: int, tls: ssl.SSLContext | None = None
    ) -> tuple[str, int]:
        if self._runner is None:
            self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
            await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=tls, reuse_address=True)
        await site.start()
        # aiohttp keeps the asyncio.Server on the site; we need its real (port 0) address.
        server = cast(asyncio.Server | None, site._server)
        assert server is not None and server.sockets, "the HTTP listener did not start"
        sockname = server.sockets[0].getsockname()
        address = (str(sockname[0]), int(sockname[1]))
        self.addresses.append((*address, tls is not None))
        return address

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
