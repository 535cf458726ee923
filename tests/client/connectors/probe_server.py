"""A tiny MCP server for the connector tests (run as a script by the tests' connectors).

Tools: ``auth`` (the HTTP Authorization header it received), ``env`` (its environment as
JSON), ``echo`` (its description is read from ``--description-file`` at start, so a test
can change the definition), ``crash`` (writes to stderr, then exits at once), ``slow``
(sleeps, reporting progress) and ``pid``. ``--http-port`` serves streamable HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from mcp.server.mcpserver import Context, MCPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--description-file", default="")
    parser.add_argument("--stderr-at-start", default="")
    parser.add_argument("--exit-at-start", type=int, default=None)
    parser.add_argument("--hang-at-start", action="store_true")
    parser.add_argument("--marker-file", default="", help="slow writes here when cancelled")
    parser.add_argument("--http-port", type=int, default=0, help="serve streamable HTTP instead")
    args = parser.parse_args()
    if args.stderr_at_start:
        print(args.stderr_at_start, file=sys.stderr, flush=True)
    if args.exit_at_start is not None:
        os._exit(args.exit_at_start)
    if args.hang_at_start:
        import time

        time.sleep(3600)
    description = "Echo the text back."
    if args.description_file:
        with open(args.description_file) as fh:
            description = fh.read().strip()

    server: MCPServer = MCPServer(name="probe")

    @server.tool()
    def env() -> str:
        """Report this process's environment."""
        return json.dumps(dict(os.environ), sort_keys=True)

    @server.tool(description=description)
    def echo(text: str) -> str:
        return f"echo: {text}"

    @server.tool()
    def crash() -> str:
        """Write to stderr and exit at once."""
        print("probe: something went badly wrong", file=sys.stderr, flush=True)
        print("probe: last words", file=sys.stderr, flush=True)
        os._exit(7)

    @server.tool()
    async def slow(seconds: float, ctx: Context) -> str:
        """Sleep, reporting progress every 0.1 s."""
        steps = max(1, int(seconds * 10))
        try:
            for i in range(steps):
                await ctx.report_progress(i + 1, steps, f"step {i + 1}")
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            if args.marker_file:  # proves the client's notifications/cancelled arrived
                with open(args.marker_file, "w") as fh:
                    fh.write("cancelled")
            raise
        return "done"

    @server.tool()
    def auth(ctx: Context) -> str:
        """Report the Authorization header of this HTTP request."""
        request = ctx.request_context.request
        headers = getattr(request, "headers", None)
        return (headers.get("authorization") if headers is not None else None) or "none"

    @server.tool()
    def pid() -> str:
        """Report this process's PID."""
        return str(os.getpid())

    if args.http_port:
        server.run("streamable-http", host="127.0.0.1", port=args.http_port)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
