// @ts-check
// types.js: the wire messages the page reads (docs/protocol.md), as JSDoc
// types for // @ts-check. No code.

/**
 * One event record (docs/protocol.md, "The event record").
 * @typedef {object} WireEvent
 * @property {number} seq            0 for an ephemeral probe
 * @property {string} received       RFC 3339, the daemon's receive time
 * @property {string} [sent]         the hook's send time
 * @property {string} session_id
 * @property {string} event          hook_event_name
 * @property {string} [tool]
 * @property {string} [tool_use_id]
 * @property {string} [agent_id]     set for events fired inside a subagent
 * @property {string} [agent_type]
 * @property {boolean} [ephemeral]
 * @property {string} [origin]       fleet hub only
 * @property {number} [origin_seq]
 * @property {Record<string, any>} [payload]  the original hook JSON
 */

/**
 * A running tool call of a session.
 * @typedef {object} CurrentTool
 * @property {string} tool_use_id
 * @property {string} tool
 * @property {string} summary
 * @property {string} started
 * @property {number} seq
 * @property {string} [agent_id]
 */

/**
 * A subagent of a session.
 * @typedef {object} Agent
 * @property {string} agent_id
 * @property {string} agent_type
 * @property {"running" | "done"} state
 * @property {string} started
 * @property {string} [ended]
 * @property {number} tool_calls
 * @property {Usage} [usage]
 */

/**
 * @typedef {"working" | "needs_permission" | "waiting_input" | "idle" | "compacting" | "ended"} SessionState
 */

/**
 * A session as /v1/sessions lists it and {"type":"session"} frames carry it.
 * Fields after `end_reason` come from daemons that derive session state.
 * @typedef {object} WireSession
 * @property {string} session_id
 * @property {string} [origin]
 * @property {string} [cwd]
 * @property {string} [transcript_path]
 * @property {string} [first_seen]
 * @property {string} [last_seen]
 * @property {number} [first_seq]
 * @property {number} [last_seq]
 * @property {number} [total]
 * @property {Record<string, number>} [events]
 * @property {boolean} [ended]
 * @property {string} [end_reason]
 * @property {SessionState} [state]
 * @property {string} [state_since]
 * @property {boolean} [attention]
 * @property {"needs_permission" | "waiting_input" | "over_budget"} [attention_reason]  why it needs its person
 * @property {boolean} [stale]
 * @property {string} [state_message]
 * @property {string} [notification_type]
 * @property {CurrentTool[]} [current_tools]
 * @property {string} [last_prompt]
 * @property {string} [model]
 * @property {string} [permission_mode]
 * @property {Agent[]} [agents]
 * @property {Usage} [usage]        from the transcript (docs/protocol.md, "Usage"); absent until read
 * @property {OverBudget} [over_budget]  the budget it passed (docs/protocol.md, "Budgets")
 */

/**
 * A budget a session passed (mpm-wsd --budget-session-usd, --budget-day-usd).
 * @typedef {object} OverBudget
 * @property {"session" | "day"} budget
 * @property {number} limit_usd
 * @property {number} spent_usd
 * @property {string} since
 * @property {string} [day]      the local calendar day of a day budget
 * @property {boolean} attention in the inbox until the session's next prompt
 */

/**
 * Token counts of a session or of one model in it.
 * @typedef {object} TokenCounts
 * @property {number} [input_tokens]
 * @property {number} [output_tokens]
 * @property {number} [cache_read_input_tokens]
 * @property {number} [cache_creation_input_tokens]
 * @property {number} [cost_usd]
 */

/**
 * A session's (or subagent's) usage, read from its transcript.
 * @typedef {TokenCounts & {
 *   cost_source?: "claude" | "estimate",
 *   context_tokens?: number,
 *   context_window?: number,
 *   models?: Record<string, TokenCounts>,
 * }} Usage
 */

/**
 * @typedef {object} Hello
 * @property {"hello"} type
 * @property {number} protocol
 * @property {string} instance
 * @property {string} version
 * @property {number} last_seq
 * @property {number} oldest_seq
 * @property {string} server_time
 * @property {number} heartbeat_ms
 */

/**
 * @typedef {object} Subscribed
 * @property {"subscribed"} type
 * @property {string[]} sessions
 * @property {number} since
 * @property {number} replay_to
 * @property {number} oldest_seq
 * @property {boolean} truncated
 */

/**
 * @typedef {Hello | Subscribed
 *   | {type: "events", events: WireEvent[]}
 *   | {type: "live", seq: number}
 *   | {type: "session", session: WireSession}
 *   | {type: "heartbeat", last_seq: number, server_time: string}
 *   | {type: "pong"}
 *   | {type: "error", error: string}
 *   | {type: "approval", approval: import("./approvals.js").Approval}
 *   | {type: "approval_resolved", id: string, session_id: string, outcome: string, by?: string, message?: string, at: string}} ServerFrame
 */

/**
 * What the page keeps per event (model.js).
 * @typedef {object} Rec
 * @property {string} key      unique in the page: "<epoch>:<seq>"
 * @property {number} epoch
 * @property {WireEvent | null} ev  null for a divider
 * @property {number} t        receive time, ms
 * @property {ToolCall | null} [call]
 * @property {string} [divider]
 * @property {string} [sum]    cached row summary
 * @property {string} [sumPost] the result's key the cached summary saw
 * @property {string} [text]   cached search text
 * @property {boolean} [dropped] past MAX_RECORDS: no longer held
 */

/**
 * A tool call: its PreToolUse and PostToolUse/PostToolUseFailure records.
 * @typedef {object} ToolCall
 * @property {string} id
 * @property {string} tool
 * @property {string} session
 * @property {Rec | null} pre
 * @property {Rec | null} post
 * @property {boolean | null} ok
 * @property {Rec | null} [asked]  the permission prompt during the call
 * @property {string} [agent]  for a Task/Agent call: the subagent it started
 * @property {string} [counted]  the tool it is counted under in Model.done ("" when not)
 * @property {number} [countedMs]  the duration counted there
 */

export {};
