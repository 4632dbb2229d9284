package web_test

// A Chrome trace of the page for the browser benchmarks (MPM_BENCH_TRACE=1
// in BenchmarkPageScale): what the renderer's main thread did in each frame
// (script, style, layout, paint, garbage collection), to find what makes a
// frame long. Reported, never asserted.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// traceEvent is one event of Chrome's JSON trace format.
type traceEvent struct {
	Name string          `json:"name"`
	Cat  string          `json:"cat"`
	Ph   string          `json:"ph"`
	Ts   float64         `json:"ts"`   // µs, the system's monotonic clock
	Dur  float64         `json:"dur"`  // µs, for ph "X"
	Tdur float64         `json:"tdur"` // µs on the thread's CPU clock (less than Dur: the thread waited, e.g. for a core)
	Pid  int             `json:"pid"`
	Tid  int             `json:"tid"`
	Args json.RawMessage `json:"args"`
	ID   string          `json:"id"`
	ID2  struct {
		Local string `json:"local"`
	} `json:"id2"`
}

// pageTrace is a trace being recorded in p's tab.
type pageTrace struct {
	p      *page
	cancel context.CancelFunc
	done   chan []traceEvent
}

// startTrace starts recording the categories that show the main thread's
// tasks, frames, style and layout, paint, GC and the page's user timing.
func (p *page) startTrace() *pageTrace {
	p.t.Helper()
	ctx, cancel := context.WithCancel(p.ctx)
	tr := &pageTrace{p: p, cancel: cancel, done: make(chan []traceEvent, 1)}
	data := chromedp.Events(ctx, tracing.DataCollected)
	complete := chromedp.Events(ctx, tracing.TracingComplete)
	var evs []traceEvent
	ready := make(chan struct{})
	go func() {
		close(ready)
		for d, err := range data {
			if err != nil {
				return
			}
			for _, v := range d.Value {
				var e traceEvent
				if json.Unmarshal(v, &e) == nil {
					evs = append(evs, e)
				}
			}
		}
	}()
	gotComplete := make(chan struct{})
	go func() {
		for _, err := range complete {
			if err == nil {
				close(gotComplete)
			}
			return
		}
	}()
	<-ready
	cats := []string{"toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "disabled-by-default-devtools.timeline.frame", "blink.user_timing", "v8", "v8.gc", "blink", "cc"}
	err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, tracing.Start, tracing.StartParams{TransferMode: tracing.StartTransferModeReportEvents, TraceConfig: &tracing.TraceConfig{IncludedCategories: cats}})
		return err
	}))
	if err != nil {
		p.t.Fatalf("start tracing: %v", err)
	}
	go func() {
		select {
		case <-gotComplete:
		case <-time.After(30 * time.Second):
		}
		time.Sleep(200 * time.Millisecond) // the last dataCollected events
		cancel()
		tr.done <- evs
	}()
	return tr
}

// stop ends the recording and returns the events.
func (tr *pageTrace) stop() []traceEvent {
	tr.p.t.Helper()
	err := chromedp.Do(tr.p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, tracing.End, cdpEmpty{})
		return err
	}))
	if err != nil {
		tr.p.t.Fatalf("stop tracing: %v", err)
	}
	return <-tr.done
}

// frameReport describes the renderer main thread's frames between the user
// timing mark named from and the end of the trace: for each interval
// between animation frames longer than minMs, the tasks in it and where
// their time went.
func frameReport(evs []traceEvent, from string, minMs float64) string {
	// The main thread: CrRendererMain of the process that has the mark.
	var pid int
	var t0 float64
	for _, e := range evs {
		if e.Name == from && strings.Contains(e.Cat, "user_timing") {
			pid, t0 = e.Pid, e.Ts
			break
		}
	}
	if pid == 0 {
		return "trace: mark " + from + " not found"
	}
	main := -1
	for _, e := range evs {
		if e.Ph == "M" && e.Name == "thread_name" && e.Pid == pid && strings.Contains(string(e.Args), "CrRendererMain") {
			main = e.Tid
		}
	}
	var mt []traceEvent
	for _, e := range evs {
		if e.Pid == pid && e.Tid == main && e.Ph == "X" && e.Ts+e.Dur >= t0 {
			mt = append(mt, e)
		}
	}
	slices.SortFunc(mt, func(a, b traceEvent) int {
		if a.Ts != b.Ts {
			if a.Ts < b.Ts {
				return -1
			}
			return 1
		}
		if a.Dur > b.Dur {
			return -1
		}
		return 1
	})
	// Frames: the starts of the tasks that run the animation frame
	// callbacks (FireAnimationFrame) and then style, layout and paint.
	var frames []float64
	var task traceEvent
	for _, e := range mt {
		if e.Name == "ThreadControllerImpl::RunTask" {
			task = e
		}
		if e.Name != "FireAnimationFrame" || e.Ts > task.Ts+task.Dur {
			continue
		}
		switch {
		case task.Ts < t0:
			frames = []float64{task.Ts} // the frame before the mark
		case len(frames) == 0 || task.Ts-frames[len(frames)-1] > 1000:
			frames = append(frames, task.Ts)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d animation frames from the one before %s; a frame's time is its task's start", len(frames), from)
	ms := func(us float64) float64 { return us / 1000 }
	// The top-level tasks and, per task, the time of the named work in it.
	interest := []string{"V8.DeoptimizeCode", "FireAnimationFrame", "TimerFire", "FunctionCall", "EventDispatch", "FireIdleCallback", "UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize", "UpdateLayer", "Commit", "MinorGC", "MajorGC", "V8.GC_SCAVENGER", "V8.GC_MARK_COMPACTOR", "V8.GCFinalizeMC", "V8.GCIncrementalMarking", "MinorGS", "BlinkGC.AtomicPhase", "ScheduleStyleRecalculation", "HitTest", "ParseAuthorStyleSheet", "IntersectionObserverController::computeIntersections", "ResizeObserver", "v8.run", "V8.GC_MC_INCREMENTAL"}
	for i := 1; i < len(frames); i++ {
		a, z := frames[i-1], frames[i]
		if ms(z-a) < minMs {
			continue
		}
		fmt.Fprintf(&b, "\n  frame at +%.1f ms: %.1f ms to the next", ms(a-t0), ms(z-a))
		for _, e := range mt {
			if e.Ts < a || e.Ts >= z || e.Dur < 300 || e.Name != "ThreadControllerImpl::RunTask" {
				continue
			}
			all := os.Getenv("MPM_BENCH_TRACE_ALL") == "1" // every event's name, not only the usual ones
			by, cpu := map[string]float64{}, map[string]float64{}
			var names []string
			for _, c := range mt {
				if c.Ts < e.Ts || c.Ts+c.Dur > e.Ts+e.Dur || c.Name == e.Name || !all && !slices.Contains(interest, c.Name) && !strings.HasPrefix(c.Name, "V8.GC") {
					continue
				}
				if _, ok := by[c.Name]; !ok {
					names = append(names, c.Name)
				}
				by[c.Name] += c.Dur
				cpu[c.Name] += c.Tdur
			}
			var parts []string
			for _, n := range names {
				if by[n] >= 300 {
					parts = append(parts, fmt.Sprintf("%s %.1f (cpu %.1f)", n, ms(by[n]), ms(cpu[n])))
				}
			}
			fmt.Fprintf(&b, "\n    task +%.1f ms, %.1f ms (cpu %.1f): %s", ms(e.Ts-t0), ms(e.Dur), ms(e.Tdur), strings.Join(parts, ", "))
		}
		for i, e := range evs {
			if e.Pid != pid || !strings.Contains(e.Cat, "user_timing") || e.Ts < a || e.Ts >= z || !strings.HasPrefix(e.Name, "mpm:") || e.Ph != "b" {
				continue
			}
			dur := -1.0
			for _, x := range evs[i:] {
				if x.Ph == "e" && x.Name == e.Name && x.ID == e.ID && x.ID2 == e.ID2 {
					dur = x.Ts - e.Ts
					break
				}
			}
			fmt.Fprintf(&b, "\n    measure %s at +%.1f ms, %.1f ms", e.Name, ms(e.Ts-t0), ms(dur))
		}
	}
	return b.String()
}
