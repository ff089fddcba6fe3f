"""MCP: the market-making API as tools an LLM agent can call (the official ``mcp`` SDK).

- ``tools``: the tools, each standing for one REST route, with that route's inputs as its schema;
- ``server``: one MCP server for both transports;
- ``http``: streamable HTTP at ``/mcp`` on the pf-mock server itself;
- ``stdio``: ``pf-mock mcp``, a stdio server that talks to any pf-mock over REST.

A front like the REST API: the core never imports it.
"""
