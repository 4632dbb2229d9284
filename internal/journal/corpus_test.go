package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/zstd"
)

// kv is one JSON member; obj marshals its members in order, the way Claude
// Code writes hook JSON (JSON.stringify: no HTML escaping).
type kv struct {
	k string
	v any
}
type obj []kv

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := marshalNoEscape(m.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalNoEscape(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// sourceFiles returns the repository's Go and Markdown files, split in two
// halves by a hash of their path: half 0 trains the dictionary, half 1
// builds the test corpus, so the ratio measured is not the dictionary
// remembering the text it is measured on. MPM_CORPUS_ROOT names another
// checkout to take the files from instead: the corpus changes with every
// file of the repository (and its place), so two builds' benchmarks
// compare on one corpus only when they read one root.
func sourceFiles(t testing.TB, half int) []string {
	t.Helper()
	root := os.Getenv("MPM_CORPUS_ROOT")
	if root == "" {
		root = "../.."
	}
	root, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".go" || ext == ".md" || ext == ".js" || ext == ".css") {
			h := fnv.New32a()
			h.Write([]byte(p))
			if int(h.Sum32()%2) == half {
				out = append(out, p)
			}
		}
		return nil
	})
	sort.Strings(out)
	if len(out) < 10 {
		t.Fatalf("found only %d source files under %s", len(out), root)
	}
	return out
}

var prompts = []string{
	"fix the failing test in %s and explain why it failed",
	"what does %s do? keep it short",
	"refactor %s so the retry loop is in one place, and add a regression test",
	"the dashboard is slow when a session has 40k events — profile it and tell me what you find before changing anything",
	"add a --json flag to the status command; see %s for how the other commands do it",
	"review my last commit, in particular %s",
	"why does `go vet` complain about %s?",
	"rename the field Foo to RetainBytes everywhere and update the docs",
}

var commands = []string{
	"go test -race -count=1 ./internal/journal/...",
	"git status --short",
	"git log --oneline -20",
	"go build ./... && go vet ./...",
	"ls -la %s",
	"grep -rn \"EncodeAll\" %s",
	"npm run lint",
	"cat %s | head -50",
	"gofmt -l .",
	"make test",
}

// hookCorpus builds n hook payloads in the shapes Claude Code sends
// (PreToolUse/PostToolUse for Read, Bash, Edit, Write, Grep;
// UserPromptSubmit, Notification, Stop, SessionStart), from 0.2 to about
// 50 KiB, with text from the repository's own files of the given half.
func hookCorpus(t testing.TB, seed int64, n, half int) [][]byte {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	files := sourceFiles(t, half)
	content := map[string]string{}
	read := func(p string) string {
		if c, ok := content[p]; ok {
			return c
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 48<<10 {
			b = b[:48<<10]
		}
		content[p] = string(b)
		return content[p]
	}
	hex := func(k int) string {
		const d = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = d[rng.Intn(16)]
		}
		return string(b)
	}
	slice := func(s string, max int) string {
		lines := strings.SplitAfter(s, "\n")
		if len(lines) < 2 {
			return s
		}
		a := rng.Intn(len(lines))
		b := min(len(lines), a+1+rng.Intn(max))
		return strings.Join(lines[a:b], "")
	}
	sessions := make([]string, 6)
	for i := range sessions {
		sessions[i] = hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12)
	}
	var out [][]byte
	for len(out) < n {
		sid := sessions[rng.Intn(len(sessions))]
		cwd := "/home/dev/src/mpm"
		head := obj{{"session_id", sid}, {"transcript_path", "/home/dev/.claude/projects/-home-dev-src-mpm/" + sid + ".jsonl"}, {"cwd", cwd}, {"permission_mode", "default"}}
		file := files[rng.Intn(len(files))]
		rel := strings.TrimPrefix(file, filepath.Dir(filepath.Dir(filepath.Dir(file)))+"/")
		path := cwd + "/" + rel
		toolUse := "toolu_01" + hex(22)
		var p obj
		switch k := rng.Intn(20); {
		case k < 5: // Read
			text := read(file)
			lines := strings.Count(text, "\n")
			in := obj{{"file_path", path}}
			if rng.Intn(2) == 0 {
				p = append(head, kv{"hook_event_name", "PreToolUse"}, kv{"tool_name", "Read"}, kv{"tool_input", in}, kv{"tool_use_id", toolUse})
			} else {
				p = append(head, kv{"hook_event_name", "PostToolUse"}, kv{"tool_name", "Read"}, kv{"tool_input", in},
					kv{"tool_response", obj{{"type", "text"}, {"file", obj{{"filePath", path}, {"content", text}, {"numLines", lines}, {"startLine", 1}, {"totalLines", lines}}}}},
					kv{"tool_use_id", toolUse})
			}
		case k < 10: // Bash
			cmd := commands[rng.Intn(len(commands))]
			if strings.Contains(cmd, "%s") {
				cmd = fmt.Sprintf(cmd, rel)
			}
			in := obj{{"command", cmd}, {"description", "Run " + strings.Fields(cmd)[0]}}
			if rng.Intn(3) == 0 {
				p = append(head, kv{"hook_event_name", "PreToolUse"}, kv{"tool_name", "Bash"}, kv{"tool_input", in}, kv{"tool_use_id", toolUse})
				break
			}
			var stdout strings.Builder
			switch rng.Intn(3) {
			case 0:
				for i := 0; i < 5+rng.Intn(60); i++ {
					fmt.Fprintf(&stdout, "ok  \tgithub.com/mpm-dev/mpm/internal/%s\t%d.%03ds\n", filepath.Base(filepath.Dir(files[rng.Intn(len(files))])), rng.Intn(30), rng.Intn(1000))
				}
			case 1:
				for i := 0; i < 3+rng.Intn(40); i++ {
					fmt.Fprintf(&stdout, "%s %s\n", hex(7), strings.TrimSpace(slice(read(files[rng.Intn(len(files))]), 1)))
				}
			default:
				stdout.WriteString(slice(read(file), 200))
			}
			stderr := ""
			if rng.Intn(6) == 0 {
				stderr = "exit status 1\n" + rel + ":12:3: undefined: foo"
			}
			p = append(head, kv{"hook_event_name", "PostToolUse"}, kv{"tool_name", "Bash"}, kv{"tool_input", in},
				kv{"tool_response", obj{{"stdout", stdout.String()}, {"stderr", stderr}, {"interrupted", false}, {"isImage", false}}},
				kv{"tool_use_id", toolUse})
		case k < 13: // Edit
			text := read(file)
			old := slice(text, 8)
			nw := strings.ReplaceAll(old, "err", "readErr")
			in := obj{{"file_path", path}, {"old_string", old}, {"new_string", nw}, {"replace_all", false}}
			if rng.Intn(2) == 0 {
				p = append(head, kv{"hook_event_name", "PreToolUse"}, kv{"tool_name", "Edit"}, kv{"tool_input", in}, kv{"tool_use_id", toolUse})
				break
			}
			var lines []string
			for _, l := range strings.Split(old, "\n") {
				lines = append(lines, "-"+l)
			}
			for _, l := range strings.Split(nw, "\n") {
				lines = append(lines, "+"+l)
			}
			p = append(head, kv{"hook_event_name", "PostToolUse"}, kv{"tool_name", "Edit"}, kv{"tool_input", in},
				kv{"tool_response", obj{{"filePath", path}, {"oldString", old}, {"newString", nw}, {"originalFile", text},
					{"structuredPatch", []obj{{{"oldStart", 10}, {"oldLines", 3}, {"newStart", 10}, {"newLines", 3}, {"lines", lines}}}},
					{"userModified", false}, {"replaceAll", false}}},
				kv{"tool_use_id", toolUse})
		case k < 14: // Write
			text := slice(read(file), 300)
			p = append(head, kv{"hook_event_name", "PostToolUse"}, kv{"tool_name", "Write"}, kv{"tool_input", obj{{"file_path", path}, {"content", text}}},
				kv{"tool_response", obj{{"type", "create"}, {"filePath", path}, {"content", text}, {"structuredPatch", []obj{}}}},
				kv{"tool_use_id", toolUse})
		case k < 15: // Grep
			var hits strings.Builder
			for i := 0; i < 1+rng.Intn(30); i++ {
				f := files[rng.Intn(len(files))]
				fmt.Fprintf(&hits, "%s:%d:%s\n", strings.TrimPrefix(f, filepath.Dir(filepath.Dir(filepath.Dir(f)))+"/"), rng.Intn(400), strings.TrimRight(slice(read(f), 1), "\n"))
			}
			p = append(head, kv{"hook_event_name", "PostToolUse"}, kv{"tool_name", "Grep"}, kv{"tool_input", obj{{"pattern", "func .*Append"}, {"path", cwd}, {"output_mode", "content"}}},
				kv{"tool_response", obj{{"mode", "content"}, {"numFiles", 3}, {"filenames", []string{}}, {"content", hits.String()}, {"numLines", strings.Count(hits.String(), "\n")}}},
				kv{"tool_use_id", toolUse})
		case k < 17:
			pr := prompts[rng.Intn(len(prompts))]
			if strings.Contains(pr, "%s") {
				pr = fmt.Sprintf(pr, rel)
			}
			if rng.Intn(4) == 0 {
				pr += "\n\n```\n" + slice(read(file), 30) + "```"
			}
			p = append(head, kv{"hook_event_name", "UserPromptSubmit"}, kv{"prompt", pr})
		case k < 18:
			p = append(head, kv{"hook_event_name", "Notification"}, kv{"message", "Claude needs your permission to use Bash"}, kv{"notification_type", "permission_prompt"})
		case k < 19:
			p = append(head, kv{"hook_event_name", "Stop"}, kv{"stop_hook_active", false})
		default:
			p = obj{{"session_id", sid}, {"transcript_path", "/home/dev/.claude/projects/-home-dev-src-mpm/" + sid + ".jsonl"}, {"cwd", cwd}, {"hook_event_name", "SessionStart"}, {"source", "startup"}, {"model", "claude-opus-4-5"}}
		}
		b, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 50<<10 {
			continue // the corpus spans 0.2 to 50 KiB
		}
		out = append(out, b)
	}
	return out
}

// TestWriteHookDict regenerates hookdict/v1.zdict when MPM_WRITE_DICT=1.
// Only for a new codec number: a released dictionary never changes (see
// hookDictV1).
func TestWriteHookDict(t *testing.T) {
	if os.Getenv("MPM_WRITE_DICT") != "1" {
		t.Skip("set MPM_WRITE_DICT=1 to regenerate the dictionary")
	}
	samples := hookCorpus(t, 1, 4000, 0)
	d, err := dict.BuildZstdDict(samples, dict.Options{MaxDictSize: 64 << 10, HashBytes: 6, ZstdDictID: hookDictV1ID, ZstdLevel: zstd.SpeedDefault})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("hookdict/v1.zdict", d, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote a %d-byte dictionary from %d samples", len(d), len(samples))
}
