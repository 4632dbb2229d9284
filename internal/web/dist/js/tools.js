// @ts-check
// tools.js: how each tool call reads — the row summaries and the detail
// view's content, per tool. Pure: it returns plain data (blocks of text),
// and detail.js turns the blocks into DOM with textContent only.
//
// Payload shapes are Claude Code's hook payloads: tool_input as the model
// sent it, tool_response as the tool returned it (see jstest/fixtures.js).

import { diffLines, hunks, counts } from "./diff.js";
import { cleanText, oneLine, firstLine, plural, bytes } from "./format.js";

/** @typedef {import("./types.js").WireEvent} WireEvent */
/** @typedef {import("./types.js").ToolCall} ToolCall */
/** @typedef {import("./diff.js").Hunk} Hunk */

/**
 * The blocks of a detail view. Every string in them is text.
 * @typedef {{kind: "fields", rows: [string, string][]}
 *   | {kind: "text", label: string, text: string, raw: string, numbered?: number, copy?: boolean, tone?: string}
 *   | {kind: "diff", label: string, hunks: Hunk[], added: number, removed: number, raw: string}
 *   | {kind: "checklist", label: string, items: {status: string, text: string}[]}
 *   | {kind: "tree", label: string, value: any}
 *   | {kind: "note", text: string, tone?: string}
 *   | {kind: "agent", text: string, agent_id: string, agent_type: string}
 *   | {kind: "list", label: string, items: string[], more: number}} Block
 */

// A string longer than this is shown as its size, not its text.
export const HUGE = 2_000_000;

/**
 * mcpName splits "mcp__server__tool" into its parts (null for other tools).
 * @param {string} tool
 */
export function mcpName(tool) {
  const m = /^mcp__(.+?)__(.+)$/.exec(tool || "");
  return m ? { server: m[1], tool: m[2] } : null;
}

/** @param {any} v */
const obj = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : {});
/** @param {any} v */
const str = (v) => (typeof v === "string" ? v : v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

/**
 * payloadOf is an event's payload object ({} when absent).
 * @param {WireEvent | null | undefined} ev
 */
export function payloadOf(ev) {
  return ev ? obj(ev.payload) : {};
}

/**
 * editDiff is the diff of one old/new string pair.
 * @param {any} oldS
 * @param {any} newS
 */
function editDiff(oldS, newS) {
  const lines = diffLines(str(oldS), str(newS));
  return { lines, ...counts(lines) };
}

/**
 * editCounts: lines added and removed by an Edit/MultiEdit/Write input.
 * @param {string} tool
 * @param {any} input
 * @param {any} [resp]
 */
export function editCounts(tool, input, resp) {
  const r = obj(resp);
  if (Array.isArray(r.structuredPatch) && r.structuredPatch.length) {
    let added = 0, removed = 0;
    for (const h of r.structuredPatch) for (const l of Array.isArray(h.lines) ? h.lines : []) {
      if (typeof l !== "string") continue;
      if (l[0] === "+") added++;
      else if (l[0] === "-") removed++;
    }
    return { added, removed };
  }
  const i = obj(input);
  if (tool === "MultiEdit" && Array.isArray(i.edits)) {
    let added = 0, removed = 0;
    for (const e of i.edits) {
      const c = editDiff(obj(e).old_string, obj(e).new_string);
      added += c.added;
      removed += c.removed;
    }
    return { added, removed };
  }
  if (tool === "Write") return { added: lineCount(str(i.content)), removed: 0 };
  const c = editDiff(i.old_string, i.new_string);
  return { added: c.added, removed: c.removed };
}

/** @param {string} s */
function lineCount(s) {
  if (!s) return 0;
  let n = 1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  if (s.endsWith("\n")) n--;
  return n;
}

/** @param {any} i */
function readRange(i) {
  const off = Number(i.offset);
  const lim = Number(i.limit);
  if (off > 0 && lim > 0) return `lines ${off}–${off + lim - 1}`;
  if (off > 0) return `from line ${off}`;
  if (lim > 0) return `lines 1–${lim}`;
  return "";
}

/**
 * inputGist is the most telling part of a tool's input, on one line.
 * @param {string} tool
 * @param {any} input
 * @param {any} [resp]
 */
export function inputGist(tool, input, resp) {
  const i = obj(input);
  switch (tool) {
    case "Bash":
      return oneLine(i.command);
    case "Edit":
    case "MultiEdit":
    case "Write": {
      const c = editCounts(tool, i, resp);
      return `${oneLine(i.file_path)} +${c.added} −${c.removed}`;
    }
    case "Read": {
      const r = readRange(i);
      return oneLine(i.file_path) + (r ? ` (${r})` : "");
    }
    case "NotebookEdit":
      return oneLine(i.notebook_path) + (i.cell_id ? ` cell ${oneLine(i.cell_id)}` : "") + (i.edit_mode && i.edit_mode !== "replace" ? ` (${oneLine(i.edit_mode)})` : "");
    case "Grep":
      return `${oneLine(i.pattern)}` + (i.path ? ` in ${oneLine(i.path)}` : "") + (i.glob ? ` (${oneLine(i.glob)})` : i.type ? ` (${oneLine(i.type)})` : "");
    case "Glob":
      return oneLine(i.pattern) + (i.path ? ` in ${oneLine(i.path)}` : "");
    case "WebFetch":
      return oneLine(i.url);
    case "WebSearch":
      return oneLine(i.query);
    case "Task":
    case "Agent":
      return [i.subagent_type, i.description].filter(Boolean).map((s) => oneLine(s)).join(": ");
    case "TodoWrite":
      return todoGist(i.todos);
    default: {
      const m = mcpName(tool);
      const pick = i.command || i.file_path || i.path || i.pattern || i.url || i.query || i.description || i.prompt;
      const gist = typeof pick === "string" ? oneLine(pick) : argsGist(i);
      return m ? `${m.server} · ${m.tool}${gist ? " " + gist : ""}` : gist;
    }
  }
}

/**
 * argsGist: the first few plain arguments as "key: value, …".
 * @param {Record<string, any>} i
 */
function argsGist(i) {
  const parts = [];
  for (const [k, v] of Object.entries(i)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") parts.push(`${k}: ${oneLine(String(v), 80)}`);
    if (parts.length === 3) break;
  }
  if (!parts.length && Object.keys(i).length) return oneLine(JSON.stringify(i), 200);
  return parts.join(", ");
}

/**
 * todoCounts counts a TodoWrite list by status.
 * @param {any} todos
 */
export function todoCounts(todos) {
  const c = { done: 0, doing: 0, pending: 0, total: 0 };
  for (const t of Array.isArray(todos) ? todos : []) {
    c.total++;
    const s = obj(t).status;
    if (s === "completed") c.done++;
    else if (s === "in_progress") c.doing++;
    else c.pending++;
  }
  return c;
}

/** @param {any} todos */
function todoGist(todos) {
  const c = todoCounts(todos);
  return `${plural(c.total, "todo")}: ${c.done} done, ${c.doing} in progress, ${c.pending} pending`;
}

/**
 * outcomeGist is what a PostToolUse / PostToolUseFailure row shows.
 * @param {WireEvent} ev
 */
export function outcomeGist(ev) {
  const p = payloadOf(ev);
  if (ev.event === "PostToolUseFailure") {
    return (p.is_interrupt ? "interrupted: " : "") + (firstLine(str(p.error)) || "failed");
  }
  const tool = ev.tool || str(p.tool_name);
  const r = p.tool_response;
  const ro = obj(r);
  switch (tool) {
    case "Bash": {
      if (ro.interrupted) return "interrupted";
      const out = firstLine(str(ro.stdout)) || firstLine(str(ro.stderr));
      const code = ro.returnCodeInterpretation ? oneLine(ro.returnCodeInterpretation) + ": " : "";
      if (ro.backgroundTaskId) return `in the background (${oneLine(ro.backgroundTaskId)})`;
      return code + (out || "no output");
    }
    case "Grep": {
      const parts = [];
      if (typeof ro.numFiles === "number") parts.push(plural(ro.numFiles, "file"));
      if (typeof ro.numLines === "number") parts.push(plural(ro.numLines, "line"));
      if (typeof ro.numMatches === "number") parts.push(plural(ro.numMatches, "match", "matches"));
      return `${inputGist(tool, p.tool_input)} → ${parts.join(", ") || "done"}`;
    }
    case "Glob":
      return `${inputGist(tool, p.tool_input)} → ${plural(typeof ro.numFiles === "number" ? ro.numFiles : Array.isArray(ro.filenames) ? ro.filenames.length : 0, "file")}${ro.truncated ? " (truncated)" : ""}`;
    case "Read": {
      const f = obj(ro.file);
      if (typeof f.numLines === "number") {
        const start = Number(f.startLine) || 1;
        return `${oneLine(f.filePath || obj(p.tool_input).file_path)} lines ${start}–${start + f.numLines - 1}${typeof f.totalLines === "number" ? ` of ${f.totalLines}` : ""}`;
      }
      return inputGist(tool, p.tool_input, r);
    }
    case "WebFetch":
      return `${oneLine(obj(p.tool_input).url)} → ${ro.code ? `${ro.code} ${oneLine(ro.codeText)}` : "done"}${typeof ro.bytes === "number" ? `, ${bytes(ro.bytes)}` : ""}`;
    case "Write":
      return `${ro.type === "create" ? "created" : ro.type === "update" ? "updated" : "wrote"} ${inputGist(tool, p.tool_input, r)}`;
    default:
      return inputGist(tool, p.tool_input, r);
  }
}

/**
 * summary is the one-line gist of any event, for its row.
 * @param {WireEvent} ev
 * @param {ToolCall | null} [call]
 */
export function summary(ev, call) {
  const p = payloadOf(ev);
  switch (ev.event) {
    case "UserPromptSubmit":
      return oneLine(p.prompt, 400);
    case "PreToolUse": {
      const g = inputGist(ev.tool || str(p.tool_name), p.tool_input);
      if (call && call.post && call.ok === false) return `${g} → ${outcomeGist(call.post.ev)}`;
      return g;
    }
    case "PostToolUse":
    case "PostToolUseFailure":
      return outcomeGist(ev);
    case "PermissionRequest":
      return `asks to use ${oneLine(ev.tool || p.tool_name)}: ${inputGist(ev.tool || str(p.tool_name), p.tool_input)}`;
    case "Notification": {
      const t = p.notification_type ? ` (${oneLine(p.notification_type)})` : "";
      return oneLine(p.message, 400) + t;
    }
    case "SubagentStart":
    case "SubagentStop":
      return [oneLine(p.agent_type || ev.agent_type), p.agent_id ? oneLine(p.agent_id).slice(0, 8) : ""].filter(Boolean).join(" · ");
    case "SessionStart":
      return [p.source, p.model ? oneLine(obj(p.model).display_name || p.model) : "", p.cwd].filter(Boolean).map((s) => oneLine(s)).join(" · ");
    case "SessionEnd":
      return oneLine(p.reason);
    case "PreCompact":
    case "PostCompact":
      return [p.trigger, p.custom_instructions].filter(Boolean).map((s) => oneLine(s)).join(": ");
    case "Stop":
    case "StopFailure":
      return oneLine(p.error || p.reason || p.last_assistant_message || (p.stop_hook_active ? "stop hook active" : ""));
    case "MpmUsage": // journaled by a fleet edge: the session's usage for the hub
      return p.usage ? `usage $${Number(p.usage.cost_usd || 0).toFixed(4)} · ${p.usage.input_tokens || 0} in / ${p.usage.output_tokens || 0} out tokens` : "";
    case "MpmApprovalRequest": // journaled by a fleet edge: a permission request waits for an answer on that machine
      return p.approval ? `pending: ${oneLine(p.approval.tool_name || "")}` : "";
    case "MpmApprovalDecision": // journaled by mpm-wsd: how a permission request answered from mpm ended
      return [str(p.outcome).replace("_", " "), p.by ? `by ${oneLine(p.by)}` : "", p.message ? `“${oneLine(p.message, 300)}”` : ""].filter(Boolean).join(" ");
    default:
      return oneLine(p.message || p.reason || "");
  }
}

// ---- the detail view ----------------------------------------------------

/**
 * text makes a text block; a huge or binary value becomes a note of its size.
 * @param {string} label
 * @param {any} v
 * @param {{numbered?: number, copy?: boolean, tone?: string}} [o]
 * @returns {Block | null}
 */
export function textBlock(label, v, o = {}) {
  if (v === undefined || v === null || v === "") return null;
  const raw = typeof v === "string" ? v : JSON.stringify(v, null, 2);
  if (raw.length > HUGE) return { kind: "note", text: `${label}: ${bytes(new TextEncoder().encode(raw).length)}, too large to show here (copy the raw event instead)` };
  if (looksBinary(raw)) return { kind: "note", text: `${label}: binary, ${bytes(new TextEncoder().encode(raw).length)}` };
  return { kind: "text", label, text: cleanText(raw).replace(/\n$/, ""), raw, ...o };
}

/** @param {string} s */
function looksBinary(s) {
  const n = Math.min(s.length, 4096);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0xfffd) bad++;
  }
  return n > 0 && bad / n > 0.1;
}

/**
 * fields keeps the rows with a value, cleaned.
 * @param {[string, any][]} rows
 * @returns {Block | null}
 */
function fields(rows) {
  /** @type {[string, string][]} */
  const out = [];
  for (const [k, v] of rows) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    out.push([k, v === true ? "yes" : oneLine(v, 2000)]);
  }
  return out.length ? { kind: "fields", rows: out } : null;
}

/**
 * diffBlock from a structuredPatch (Claude Code's own, with real line
 * numbers) or, without one, from the old and new strings.
 * @param {string} label
 * @param {any} oldS
 * @param {any} newS
 * @param {any} [patch]
 * @returns {Block}
 */
function diffBlock(label, oldS, newS, patch) {
  /** @type {Hunk[]} */
  let hs;
  if (Array.isArray(patch) && patch.length) {
    hs = patch.map((h) => {
      const ho = obj(h);
      const lines = (Array.isArray(ho.lines) ? ho.lines : []).filter((/** @type {any} */ l) => typeof l === "string").map((/** @type {string} */ l) => ({
        op: /** @type {" " | "-" | "+"} */ (l[0] === "+" || l[0] === "-" ? l[0] : " "),
        text: cleanText(l.slice(1)),
      }));
      return { oldStart: Number(ho.oldStart) || 0, oldLines: Number(ho.oldLines) || 0, newStart: Number(ho.newStart) || 0, newLines: Number(ho.newLines) || 0, lines };
    });
  } else {
    const lines = diffLines(str(oldS), str(newS)).map((l) => ({ ...l, text: cleanText(l.text) }));
    hs = hunks(lines);
  }
  let added = 0, removed = 0;
  const raw = [];
  for (const h of hs) {
    raw.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
    for (const l of h.lines) {
      if (l.op === "+") added++;
      if (l.op === "-") removed++;
      raw.push(l.op + l.text);
    }
  }
  return { kind: "diff", label, hunks: hs, added, removed, raw: raw.join("\n") };
}

/**
 * mcpContent turns an MCP result ([{type: "text", text}] or a string) into text.
 * @param {any} r
 */
function contentText(r) {
  if (typeof r === "string") return r;
  const arr = Array.isArray(r) ? r : Array.isArray(obj(r).content) ? obj(r).content : null;
  if (!arr) return null;
  const texts = arr.map((/** @type {any} */ c) => (obj(c).type === "text" ? str(obj(c).text) : null));
  if (texts.some((/** @type {string | null} */ t) => t === null)) return null;
  return texts.join("\n");
}

/**
 * describeCall renders a tool call (or one tool event without its pair):
 * what it was asked to do, and what came back.
 * @param {string} tool
 * @param {WireEvent | null} pre
 * @param {WireEvent | null} post
 * @returns {{title: string, blocks: Block[]}}
 */
export function describeCall(tool, pre, post) {
  const pp = payloadOf(pre);
  const qp = payloadOf(post);
  const input = obj(pp.tool_input && Object.keys(obj(pp.tool_input)).length ? pp.tool_input : qp.tool_input);
  const resp = qp.tool_response;
  const ro = obj(resp);
  const failed = post && post.event === "PostToolUseFailure";
  /** @type {(Block | null)[]} */
  const b = [];
  const m = mcpName(tool);
  let title = tool || "tool call";
  switch (tool) {
    case "Bash":
      b.push(fields([["description", input.description], ["timeout", input.timeout ? `${input.timeout} ms` : ""], ["in the background", input.run_in_background]]));
      b.push(textBlock("command", input.command, { copy: true }));
      if (post && !failed) {
        b.push(fields([["interrupted", ro.interrupted], ["exit", ro.returnCodeInterpretation], ["background task", ro.backgroundTaskId]]));
        if (ro.isImage) b.push({ kind: "note", text: "output: an image" });
        b.push(textBlock("stdout", ro.stdout, { copy: true }));
        b.push(textBlock("stderr", ro.stderr, { copy: true, tone: "warn" }));
        if (!ro.stdout && !ro.stderr && !ro.isImage && typeof resp !== "string") b.push({ kind: "note", text: "no output" });
        if (typeof resp === "string") b.push(textBlock("output", resp, { copy: true }));
      }
      break;
    case "Edit":
      title = `Edit ${oneLine(input.file_path)}`;
      b.push(fields([["file", input.file_path], ["replace all", input.replace_all ? "every occurrence replaced" : ""]]));
      b.push(diffBlock("diff", input.old_string, input.new_string, ro.structuredPatch));
      if (ro.userModified) b.push({ kind: "note", text: "the user changed the edit before accepting it" });
      break;
    case "MultiEdit": {
      title = `MultiEdit ${oneLine(input.file_path)}`;
      const edits = Array.isArray(input.edits) ? input.edits : [];
      b.push(fields([["file", input.file_path], ["edits", String(edits.length)]]));
      if (Array.isArray(ro.structuredPatch) && ro.structuredPatch.length) b.push(diffBlock("diff", "", "", ro.structuredPatch));
      else edits.forEach((/** @type {any} */ e, /** @type {number} */ n) => b.push(diffBlock(`edit ${n + 1}${obj(e).replace_all ? " (replace all)" : ""}`, obj(e).old_string, obj(e).new_string)));
      break;
    }
    case "Write": {
      title = `Write ${oneLine(input.file_path)}`;
      const content = str(input.content);
      b.push(fields([["file", input.file_path], ["size", `${bytes(new TextEncoder().encode(content).length)}, ${plural(lineCount(content), "line")}`], ["result", ro.type === "create" ? "created a new file" : ro.type === "update" ? "replaced the file" : ""]]));
      if (ro.type === "update" && Array.isArray(ro.structuredPatch) && ro.structuredPatch.length) b.push(diffBlock("changes", "", "", ro.structuredPatch));
      b.push(textBlock("content", content, { numbered: 1, copy: true }));
      break;
    }
    case "Read": {
      title = `Read ${oneLine(input.file_path)}`;
      const f = obj(ro.file);
      const start = Number(f.startLine) || Number(input.offset) || 1;
      b.push(fields([["file", input.file_path], ["asked for", readRange(input) || "the whole file"], ["got", typeof f.numLines === "number" ? `lines ${start}–${start + f.numLines - 1}${typeof f.totalLines === "number" ? ` of ${f.totalLines}` : ""}` : ""], ["type", ro.type && ro.type !== "text" ? ro.type : ""]]));
      if (typeof f.content === "string") b.push(textBlock("content", f.content, { numbered: start }));
      else if (post && !failed && resp !== undefined && !f.content) b.push(textBlock("response", resp));
      break;
    }
    case "NotebookEdit":
      title = `NotebookEdit ${oneLine(input.notebook_path)}`;
      b.push(fields([["notebook", input.notebook_path], ["cell", input.cell_id], ["cell type", input.cell_type], ["mode", input.edit_mode]]));
      b.push(textBlock("source", input.new_source, { numbered: 1, copy: true }));
      break;
    case "Grep":
    case "Glob": {
      b.push(fields([["pattern", input.pattern], ["path", input.path], ["glob", input.glob], ["type", input.type], ["output", input.output_mode], ["ignore case", input["-i"]], ["multiline", input.multiline], ["limit", input.head_limit]]));
      const files = Array.isArray(ro.filenames) ? ro.filenames : [];
      const n = typeof ro.numFiles === "number" ? ro.numFiles : files.length;
      if (post && !failed) {
        b.push(fields([["files", plural(n, "file")], ["lines", typeof ro.numLines === "number" ? String(ro.numLines) : ""], ["matches", typeof ro.numMatches === "number" ? String(ro.numMatches) : ""], ["truncated", ro.truncated], ["took", typeof ro.durationMs === "number" ? `${ro.durationMs} ms` : ""]]));
        if (typeof ro.content === "string" && ro.content) b.push(textBlock("matches", ro.content, { copy: true }));
        if (files.length) b.push({ kind: "list", label: "files", items: files.slice(0, 500).map((/** @type {any} */ f) => cleanText(str(f))), more: Math.max(0, files.length - 500) });
      }
      break;
    }
    case "WebFetch":
      b.push(fields([["url", input.url], ["status", ro.code ? `${ro.code} ${str(ro.codeText)}` : ""], ["size", typeof ro.bytes === "number" ? bytes(ro.bytes) : ""], ["took", typeof ro.durationMs === "number" ? `${ro.durationMs} ms` : ""]]));
      b.push(textBlock("prompt", input.prompt));
      if (post && !failed) b.push(textBlock("result", typeof resp === "string" ? resp : ro.result, { copy: true }));
      break;
    case "WebSearch": {
      b.push(fields([["query", input.query], ["only", Array.isArray(input.allowed_domains) ? input.allowed_domains.join(", ") : ""], ["never", Array.isArray(input.blocked_domains) ? input.blocked_domains.join(", ") : ""]]));
      if (post && !failed) {
        const items = [];
        for (const r of Array.isArray(ro.results) ? ro.results : []) {
          if (typeof r === "string") items.push(cleanText(r));
          else for (const c of Array.isArray(obj(r).content) ? obj(r).content : [r]) {
            const co = obj(c);
            if (co.title || co.url) items.push(cleanText(`${str(co.title)}${co.url ? " — " + str(co.url) : ""}`));
          }
        }
        if (items.length) b.push({ kind: "list", label: "results", items: items.slice(0, 100), more: Math.max(0, items.length - 100) });
        else b.push(textBlock("response", resp));
      }
      break;
    }
    case "Task":
    case "Agent": {
      title = `${tool}: ${oneLine(input.subagent_type || "agent")}`;
      b.push(fields([["subagent", input.subagent_type], ["description", input.description], ["model", ro.resolvedModel || input.model], ["status", ro.status && ro.status !== "completed" ? ro.status : ""], ["took", typeof ro.totalDurationMs === "number" ? `${(ro.totalDurationMs / 1000).toFixed(1)} s` : ""], ["tool calls", typeof ro.totalToolUseCount === "number" ? String(ro.totalToolUseCount) : ""], ["tokens", typeof ro.totalTokens === "number" ? ro.totalTokens.toLocaleString("en-US") : ""]]));
      b.push(textBlock("prompt", input.prompt, { copy: true }));
      if (post && !failed) b.push(textBlock("result", contentText(resp) ?? resp, { copy: true }));
      if (ro.agentId) b.push({ kind: "agent", text: "show this subagent's events", agent_id: str(ro.agentId), agent_type: str(ro.agentType || input.subagent_type) });
      break;
    }
    case "TodoWrite": {
      const todos = Array.isArray(input.todos) ? input.todos : Array.isArray(ro.newTodos) ? ro.newTodos : [];
      b.push({ kind: "note", text: todoGist(todos) });
      b.push(checklist("todos", todos));
      break;
    }
    default:
      if (m) {
        title = `${m.tool} (MCP server ${m.server})`;
        b.push(fields([["server", m.server], ["tool", m.tool]]));
        b.push({ kind: "tree", label: "arguments", value: pp.tool_input ?? qp.tool_input ?? {} });
        if (post && !failed) {
          const t = contentText(resp);
          b.push(t !== null ? textBlock("result", t, { copy: true }) : { kind: "tree", label: "result", value: resp });
        }
      } else {
        b.push({ kind: "tree", label: "input", value: pp.tool_input ?? qp.tool_input ?? {} });
        if (post && !failed && resp !== undefined) b.push(typeof resp === "string" ? textBlock("response", resp, { copy: true }) : { kind: "tree", label: "response", value: resp });
      }
  }
  if (failed) {
    b.push({ kind: "note", text: qp.is_interrupt ? "interrupted by the user" : "the tool failed", tone: "bad" });
    b.push(textBlock("error", qp.error, { copy: true, tone: "bad" }));
  }
  return { title, blocks: /** @type {Block[]} */ (b.filter(Boolean)) };
}

/**
 * checklist turns TodoWrite todos into checklist items.
 * @param {string} label
 * @param {any[]} todos
 * @returns {Block}
 */
export function checklist(label, todos) {
  return {
    kind: "checklist",
    label,
    items: todos.map((t) => {
      const o = obj(t);
      const status = o.status === "completed" || o.status === "in_progress" ? o.status : "pending";
      return { status, text: oneLine(status === "in_progress" && o.activeForm ? o.activeForm : o.content, 500) };
    }),
  };
}

/**
 * describeEvent renders an event that is not a tool call.
 * @param {WireEvent} ev
 * @returns {{title: string, blocks: Block[]}}
 */
export function describeEvent(ev) {
  const p = payloadOf(ev);
  /** @type {(Block | null)[]} */
  const b = [];
  let title = ev.event;
  switch (ev.event) {
    case "UserPromptSubmit":
      b.push(textBlock("prompt", p.prompt, { copy: true }));
      break;
    case "Notification":
      b.push(fields([["type", p.notification_type], ["title", p.title]]));
      b.push(textBlock("message", p.message));
      break;
    case "PermissionRequest":
      title = `Permission asked: ${oneLine(ev.tool || p.tool_name)}`;
      b.push(fields([["tool", ev.tool || p.tool_name], ["mode", p.permission_mode]]));
      b.push(...describeCall(ev.tool || str(p.tool_name), ev, null).blocks);
      break;
    case "Stop":
    case "StopFailure":
      b.push(textBlock("last message", p.last_assistant_message, { copy: true }));
      b.push(fields([["error", p.error], ["stop hook active", p.stop_hook_active]]));
      break;
    case "SubagentStart":
    case "SubagentStop":
      b.push(fields([["agent", p.agent_type], ["agent id", p.agent_id], ["transcript", p.agent_transcript_path]]));
      b.push(textBlock("last message", p.last_assistant_message, { copy: true }));
      if (p.agent_id) b.push({ kind: "agent", text: `show this subagent's events`, agent_id: str(p.agent_id), agent_type: str(p.agent_type) });
      break;
    case "SessionStart":
      b.push(fields([["source", p.source], ["cwd", p.cwd], ["model", p.model ? obj(p.model).display_name || p.model : ""], ["permission mode", p.permission_mode]]));
      break;
    case "SessionEnd":
      b.push(fields([["reason", p.reason]]));
      break;
    default: {
      const rest = { ...p };
      for (const k of ["session_id", "transcript_path", "cwd", "hook_event_name"]) delete rest[k];
      if (Object.keys(rest).length) b.push({ kind: "tree", label: "payload", value: rest });
    }
  }
  return { title, blocks: /** @type {Block[]} */ (b.filter(Boolean)) };
}

/**
 * treeLines renders a JSON value as indented text lines (the "readable
 * tree" of arguments), cleaned: [{depth, key, value}] where value is ""
 * for an object or array opening.
 * @param {any} v
 * @param {number} [limit] at most this many lines
 */
export function treeLines(v, limit = 2000) {
  /** @type {{depth: number, key: string, value: string, kind: string}[]} */
  const out = [];
  /**
   * @param {string} key
   * @param {any} x
   * @param {number} depth
   */
  const walk = (key, x, depth) => {
    if (out.length >= limit) return;
    if (Array.isArray(x)) {
      out.push({ depth, key, value: x.length ? `[${x.length}]` : "[]", kind: "array" });
      x.forEach((y, i) => walk(String(i), y, depth + 1));
    } else if (x && typeof x === "object") {
      const ks = Object.keys(x);
      out.push({ depth, key, value: ks.length ? "" : "{}", kind: "object" });
      for (const k of ks) walk(k, x[k], depth + 1);
    } else if (typeof x === "string") {
      out.push({ depth, key, value: x.length > HUGE ? `(${bytes(x.length)} of text)` : cleanText(x), kind: "string" });
    } else {
      out.push({ depth, key, value: String(x), kind: typeof x });
    }
  };
  walk("", v, 0);
  if (out.length && out[0].key === "" && out[0].kind === "object") {
    out.shift();
    for (const l of out) l.depth--;
  }
  return out;
}
