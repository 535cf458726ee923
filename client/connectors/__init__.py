"""MCP connectors: each server in its own process with only its own secrets.

Modules, one job each (nothing is re-exported here, so that importing the light ones,
``config`` for the settings check for instance, does not load the MCP SDK):

- ``config``: a connector's name, transport and secret *names*; the settings' shape.
- ``environment``: the minimal environment a stdio child gets (and why).
- ``secrets``: keychain item names ``mcp:<connector>:<VAR>``; reading them at start.
- ``stderr_tail``: the last stderr lines of a child, and noticing that it died.
- ``connection``: one live connector (transport + session) on the manager's loop.
- ``manager``: start on first need, status, restart, timeouts, calls, cancellation, exit.
- ``approvals``: "always allow" bound to a hash of the target and the tool definition.
- ``provider``: the chat's ``ToolProvider``: offer tools, ask, run, return text.
- ``results``: MCP results as bounded text for the model (through the gateway's DLP).
- ``registry`` / ``importer``: add, remove and import connectors (settings + keychain).
- ``fs_paths`` / ``fs_server``: the Local FS connector, read-only and confined.
"""
