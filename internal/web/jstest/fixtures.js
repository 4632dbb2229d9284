// fixtures.js: the tool-call payloads in ../testdata/payloads.json as wire
// events (the records the daemon sends), for the node tests.
import { readFileSync } from "node:fs";

export const data = JSON.parse(readFileSync(new URL("../testdata/payloads.json", import.meta.url), "utf8"));

let seq = 0;
/**
 * wire wraps a hook payload as the daemon's event record.
 * @param {string} event
 * @param {object} payload
 * @param {object} [extra]
 */
export function wire(event, payload, extra = {}) {
  seq++;
  return {
    seq,
    received: new Date(Date.UTC(2026, 10, 30, 12, 0, 0, seq * 100)).toISOString(),
    session_id: "aaaa1111-2222-3333-4444-555566667777",
    event,
    tool: payload.tool_name,
    tool_use_id: payload.tool_use_id,
    payload: { session_id: "aaaa1111-2222-3333-4444-555566667777", hook_event_name: event, cwd: "/home/dev/proj", transcript_path: "/tmp/t.jsonl", ...payload },
    ...extra,
  };
}

/**
 * callEvents turns one fixture call into its PreToolUse and result events.
 * @param {any} c
 */
export function callEvents(c) {
  const id = "toolu_" + c.name;
  const pre = wire("PreToolUse", { tool_name: c.tool_name, tool_use_id: id, tool_input: c.tool_input });
  let post = null;
  if (c.failure) post = wire("PostToolUseFailure", { tool_name: c.tool_name, tool_use_id: id, tool_input: c.tool_input, ...c.failure });
  else if (c.tool_response !== undefined) post = wire("PostToolUse", { tool_name: c.tool_name, tool_use_id: id, tool_input: c.tool_input, tool_response: c.tool_response });
  return { pre, post };
}

/**
 * blocksText flattens describeCall's blocks into the text a person reads.
 * @param {any[]} blocks
 */
export function blocksText(blocks) {
  const out = [];
  for (const b of blocks) {
    switch (b.kind) {
      case "fields": for (const [k, v] of b.rows) out.push(`${k}: ${v}`); break;
      case "text": out.push(`[${b.label}]`, b.text); break;
      case "note": out.push(b.text); break;
      case "diff": for (const h of b.hunks) for (const l of h.lines) out.push(l.op + l.text); break;
      case "checklist": for (const i of b.items) out.push(`${i.status} ${i.text}`); break;
      case "list": out.push(...b.items); break;
      case "tree": out.push(JSON.stringify(b.value)); break;
      case "agent": out.push(b.text); break;
    }
  }
  return out.join("\n");
}
