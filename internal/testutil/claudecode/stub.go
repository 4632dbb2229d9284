// Package claudecode runs the real Claude Code CLI offline for tests: it
// installs the npm package @anthropic-ai/claude-code into a cache directory
// outside the repository (Install), serves a scripted stub of the Anthropic
// Messages streaming API on 127.0.0.1 (Stub), and runs `claude -p` against
// it with a scratch HOME whose settings.json wires mpm-hook (Run). Claude
// Code then fires its real hooks with its real payloads.
package claudecode

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Block is one content block of a scripted assistant reply: text, or a
// tool call (Tool and Input set).
type Block struct {
	// Text is a text block's text.
	Text string
	// Tool is a tool_use block's tool name; ID its tool_use id (generated
	// when empty).
	Tool string
	ID   string
	// Input is the tool call's input (encoded as JSON).
	Input any
}

// Reply is one scripted assistant message.
type Reply struct {
	Blocks []Block
}

// TextReply is a reply of one text block, ending the turn.
func TextReply(text string) Reply { return Reply{Blocks: []Block{{Text: text}}} }

// ToolReply is a reply that calls one tool.
func ToolReply(tool, id string, input any) Reply {
	return Reply{Blocks: []Block{{Tool: tool, ID: id, Input: input}}}
}

// Request is what the stub recorded of one /v1/messages request.
type Request struct {
	// Model is the request's model.
	Model string
	// Stream is whether it asked for a stream.
	Stream bool
	// Tools is how many tools it offered (0: a side request such as a
	// title or a summary).
	Tools int
	// Body is the raw request.
	Body []byte
}

// Stub is a scripted Anthropic Messages API: each main-loop request (one
// that offers tools) gets the next reply of the script for the agent that
// asks, in order; any other request (titles, summaries, quota probes) gets
// a short text. When the script is used up it answers "done".
type Stub struct {
	// URL is the stub's base URL (ANTHROPIC_BASE_URL).
	URL string
	srv *httptest.Server
	// mu guards the fields below.
	mu       sync.Mutex
	script   []Reply
	sub      map[string][]Reply
	requests []Request
	n        int
}

// NewStub starts a stub serving script to the main agent; it stops when
// the test ends.
func NewStub(t testing.TB, script ...Reply) *Stub {
	t.Helper()
	s := &Stub{script: script, sub: map[string][]Reply{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// SubagentScript makes requests whose first user message contains marker
// (a subagent's prompt) take their replies from script instead of the
// main one.
func (s *Stub) SubagentScript(marker string, script ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sub[marker] = script
}

// Requests returns what the stub received so far.
func (s *Stub) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// messagesRequest is the part of a request the stub reads.
type messagesRequest struct {
	Model    string            `json:"model"`
	Stream   bool              `json:"stream"`
	Tools    []json.RawMessage `json:"tools"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

// next picks the reply for req.
func (s *Stub) next(req *messagesRequest) Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(req.Tools) == 0 {
		return TextReply("Stub title")
	}
	if len(req.Messages) > 0 {
		first := string(req.Messages[0].Content)
		for marker, script := range s.sub {
			if strings.Contains(first, marker) {
				if len(script) == 0 {
					return TextReply("subagent done")
				}
				r := script[0]
				s.sub[marker] = script[1:]
				return r
			}
		}
	}
	if len(s.script) == 0 {
		return TextReply("done")
	}
	r := s.script[0]
	s.script = s.script[1:]
	return r
}

func (s *Stub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !strings.HasSuffix(r.URL.Path, "/v1/messages") {
		// count_tokens and anything else: a harmless answer.
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"input_tokens":10}`)
		return
	}
	var req messagesRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"type":"error","error":{"type":"invalid_request_error","message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	reply := s.next(&req)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Model: req.Model, Stream: req.Stream, Tools: len(req.Tools), Body: body})
	s.n++
	id := fmt.Sprintf("msg_stub_%d", s.n)
	s.mu.Unlock()
	model := req.Model
	if model == "" {
		model = "claude-stub"
	}
	content := make([]map[string]any, len(reply.Blocks))
	stop := "end_turn"
	for k, b := range reply.Blocks {
		if b.Tool != "" {
			if b.ID == "" {
				b.ID = fmt.Sprintf("toolu_stub_%d_%d", s.n, k)
				reply.Blocks[k].ID = b.ID
			}
			content[k] = map[string]any{"type": "tool_use", "id": b.ID, "name": b.Tool, "input": b.Input}
			stop = "tool_use"
		} else {
			content[k] = map[string]any{"type": "text", "text": b.Text}
		}
	}
	usage := map[string]any{"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
			"stop_reason": stop, "stop_sequence": nil, "usage": usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	send := func(name string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
		if fl != nil {
			fl.Flush()
		}
	}
	send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": 100, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
	}})
	for k, b := range reply.Blocks {
		if b.Tool != "" {
			send("content_block_start", map[string]any{"type": "content_block_start", "index": k,
				"content_block": map[string]any{"type": "tool_use", "id": b.ID, "name": b.Tool, "input": map[string]any{}}})
			in, _ := json.Marshal(b.Input)
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": k,
				"delta": map[string]any{"type": "input_json_delta", "partial_json": string(in)}})
		} else {
			send("content_block_start", map[string]any{"type": "content_block_start", "index": k,
				"content_block": map[string]any{"type": "text", "text": ""}})
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": k,
				"delta": map[string]any{"type": "text_delta", "text": b.Text}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": k})
	}
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": 20}})
	send("message_stop", map[string]any{"type": "message_stop"})
}
