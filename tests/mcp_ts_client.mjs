// pf-mock's MCP server driven by the TypeScript SDK's client (the SDK the MCP Inspector and most MCP hosts
// are built on; the version package.json pins). The SDK checks every result's structuredContent against
// the tool's output schema, so a result of the wrong shape comes back here as `thrown`.
//
// stdin: {"transport": {"url", "headers"} or {"command", "args", "env"},
//         "calls": [{"tool": name, "arguments": {...}}, ...]}
// stdout: {"tools": [tools/list's tools], "results": [{"tool", "isError", "structuredContent", "text"}
//          or {"tool", "thrown"}, ...]}
import { readFileSync } from "node:fs";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const plan = JSON.parse(readFileSync(0, "utf8"));
const where = plan.transport;
const transport = where.url
  ? new StreamableHTTPClientTransport(new URL(where.url), { requestInit: { headers: where.headers || {} } })
  : new StdioClientTransport({ command: where.command, args: where.args || [], env: where.env, stderr: "pipe" });

const client = new Client({ name: "pf-mock-ts-test", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
const results = [];
for (const call of plan.calls) {
  try {
    const result = await client.callTool({ name: call.tool, arguments: call.arguments });
    results.push({
      tool: call.tool,
      isError: result.isError === true,
      structuredContent: result.structuredContent ?? null,
      text: (result.content || []).filter((block) => block.type === "text").map((block) => block.text),
    });
  } catch (error) {
    results.push({ tool: call.tool, thrown: String(error && error.message ? error.message : error) });
  }
}
await client.close();
process.stdout.write(JSON.stringify({ tools, results }));
