"""HTTP transport: one aiohttp server for the provider APIs, the control API and the UI."""
