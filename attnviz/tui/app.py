"""The explorer (Textual): a status line, the token strip, the stage bar, the stage's heatmap and its explain
panel, and the keys. Every key changes the Explorer (state.py) and redraws from it.

    attnviz · seed 0 · d_model 8 · d_k 4 · head 1/1 · no mask          status
    Q3/5  고양이 · 는 · [침대] · 에서 · 잔다                              tokens (click one)
    input › Q/K/V › Q·Kᵀ › ÷√d_k › mask › [softmax] › …                 stages (click one)
    heatmap ┃ panel                                                     side by side when wide enough,
                                                                        else the heatmap above the panel
    ←→ query  ↑↓ stage  h head  m mask  t 한국어  e export  ? keys  q quit
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Size
from textual.widgets import Static

from ..errors import AttnvizError
from ..render.terminal.common import PANEL_WIDTH, View
from .export import export_stage
from .heatmap import Heatmap
from .stages import detail_line, detail_marker, stage_blocks, stage_label, stage_panel
from .state import Explorer
from .widgets import HelpScreen, Strip, token_items
from .words import word

#: Terminal width from which the heatmap stands beside the panel rather than above it.
WIDE = PANEL_WIDTH + 30
THEMES = {"light": "textual-light", "dark": "textual-dark"}


class AttnvizApp(App[None]):
    """Explore one text's attention: move the focus query, step through the stages, switch head and layer."""

    TITLE = "attnviz"
    CSS = """
    Screen { layout: vertical; }
    #status, #tokens, #stages, #keys { height: 1; width: 100%; }
    #status { background: $panel; color: $foreground; }
    #keys { background: $panel; color: $foreground-muted; }
    #main { height: 1fr; layout: vertical; }
    #heatmap { height: auto; width: 100%; padding: 0 1; }
    #main.wide { layout: horizontal; }
    #main.wide #heatmap { width: auto; max-width: 45%; height: 100%; }
    #panel { height: 1fr; scrollbar-size-vertical: 1; }
    #panel-body { width: 100%; }
    """
    BINDINGS = [
        Binding("left", "focus_query(-1)", "previous query", priority=True),
        Binding("right", "focus_query(1)", "next query", priority=True),
        Binding("home", "first_query", "first query", priority=True),
        Binding("end", "last_query", "last query", priority=True),
        Binding("up", "stage(-1)", "previous stage", priority=True),
        Binding("down", "stage(1)", "next stage", priority=True),
        Binding("h", "head(1)", "next head"),
        Binding("H", "head(-1)", "previous head"),
        Binding("l", "layer(1)", "next layer"),
        Binding("L", "layer(-1)", "previous layer"),
        Binding("m", "mask", "causal mask"),
        Binding("t", "lang", "language"),
        Binding("d", "dark", "light / dark"),
        Binding("pageup", "scroll(-1)", "scroll up", priority=True),
        Binding("pagedown", "scroll(1)", "scroll down", priority=True),
        Binding("e", "export", "export"),
        Binding("question_mark", "help", "keys"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, explorer: Explorer, *, out_dir: str | Path = ".", dpi: int = 150) -> None:
        super().__init__()
        self.explorer, self.out_dir, self.dpi = explorer, Path(out_dir), dpi
        self.exported: list[Path] = []  # every file `e` wrote, in order
        self._size: Size | None = None  # the terminal's size as the last Resize event gave it
        self.theme = THEMES[explorer.theme]

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield Strip(id="tokens")
        yield Strip(id="stages")
        with Horizontal(id="main"):
            yield Static(id="heatmap")
            with VerticalScroll(id="panel"):
                yield Static(id="panel-body")
        yield Static(id="keys")

    def on_mount(self) -> None:
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        self._size = event.size  # (self.size may still be the old one while the event is handled)
        self.redraw()

    # --- drawing --------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Draw every part from the Explorer, fitted to the terminal's size, the panel scrolled to the focus
        query's detail lines (Q1 · K3 → …), or to its top when the stage has none."""
        ex = self.explorer
        width, height = self._size or self.size
        wide = width >= WIDE
        self.query_one("#main").set_class(wide, "wide")
        self.query_one("#status", Static).update(self._status())
        trace = ex.trace
        tokens = token_items([t.label for t in trace.query_tokens])
        self.query_one("#tokens", Strip).show(Text(f" Q{ex.focus + 1}/{len(tokens)} ", style="bold"), tokens,
                                              ex.focus, "·", width)
        names = [stage_label(trace, s, ex.lang) for s in ex.stages]
        self.query_one("#stages", Strip).show(Text(" "), [f" {n} " for n in names], ex.stage_index, "›", width)
        rows = [t.label for t in trace.query_tokens]
        chrome = 5  # status, tokens, stages, keys, one spare
        max_rows = max(3, height - chrome - 3) if wide else max(2, (height - chrome) // 2 - 3)
        self.query_one("#heatmap", Static).update(
            Heatmap(stage_blocks(trace, ex.stage_name, ex.head), rows, ex.focus, theme=ex.theme, lang=ex.lang,
                    max_rows=max_rows))
        panel_width = width - 1  # the panel's scroll bar
        if wide:
            panel_width = min(PANEL_WIDTH, width - 1 - self._heatmap_width(width))
        view = View(lang=ex.lang, precision=ex.precision, width=max(20, min(panel_width, PANEL_WIDTH)))
        panel = stage_panel(trace, ex.stage_name, focus=ex.focus, head=ex.head, view=view)
        self.query_one("#panel-body", Static).update(panel)
        line = detail_line(panel, view.width, detail_marker(trace, ex.stage_name, ex.focus, ex.head, ex.lang))
        scroller = self.query_one("#panel", VerticalScroll)
        self.call_after_refresh(scroller.scroll_to, y=max(0, (line or 0) - 1), animate=False)
        footer = "footer_model" if ex.source.n_layers > 1 else "footer"
        self.query_one("#keys", Static).update(Text(" " + word(footer, ex.lang)))

    def _heatmap_width(self, width: int) -> int:
        return min(int(width * 0.45), max(20, width - PANEL_WIDTH - 1))

    def _status(self) -> Text:
        ex, trace = self.explorer, self.explorer.trace
        model = (ex.source.model or "").rstrip("/").split("/")[-1]  # all-MiniLM-L6-v2, not its organisation
        parts = ["attnviz", model, ex.source.details]
        if ex.source.n_layers > 1:
            parts.append(f"{word('layer', ex.lang)} {ex.layer} (0–{ex.source.n_layers - 1})")
        parts.append(f"{word('head', ex.lang)} {ex.head + 1}/{trace.n_heads}")
        parts.append(word("causal" if trace.heads[ex.head].mask is not None else "no_mask", ex.lang))
        return Text(" " + " · ".join(p for p in parts if p), style="bold")

    # --- actions --------------------------------------------------------------------------------

    def on_strip_picked(self, message: Strip.Picked) -> None:
        ex = self.explorer
        changed = ex.set_focus(message.index) if message.strip.id == "tokens" else ex.set_stage(message.index)
        if changed:
            self.redraw()

    def action_focus_query(self, step: int) -> None:
        if self.explorer.move_focus(step):
            self.redraw()

    def action_first_query(self) -> None:
        if self.explorer.set_focus(0):
            self.redraw()

    def action_last_query(self) -> None:
        if self.explorer.set_focus(self.explorer.n_tokens - 1):
            self.redraw()

    def action_stage(self, step: int) -> None:
        if self.explorer.move_stage(step):
            self.redraw()

    def action_head(self, step: int) -> None:
        if self.explorer.move_head(step):
            self.redraw()
        else:
            self.notify(word("one_head", self.explorer.lang), timeout=4)

    def action_layer(self, step: int) -> None:
        if self.explorer.source.n_layers == 1:
            self.notify(word("one_layer", self.explorer.lang), timeout=4)
            return
        self._guarded(lambda: self.explorer.move_layer(step))

    def action_mask(self) -> None:
        self._guarded(self.explorer.toggle_mask)

    def _guarded(self, move) -> None:
        """A move that computes a new trace: an AttnvizError becomes a notice, the view stays as it was."""
        try:
            move()
        except AttnvizError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.redraw()

    def action_lang(self) -> None:
        self.explorer.toggle_lang()
        self.redraw()

    def action_dark(self) -> None:
        self.explorer.toggle_theme()
        self.theme = THEMES[self.explorer.theme]
        self.redraw()

    def action_scroll(self, pages: int) -> None:
        panel = self.query_one("#panel", VerticalScroll)
        if pages > 0:
            panel.scroll_page_down(animate=False)
        else:
            panel.scroll_page_up(animate=False)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.explorer.lang))

    def action_export(self) -> None:
        self.notify(word("saving", self.explorer.lang), timeout=2)
        ex = self.explorer
        self._export(ex.trace, ex.stage_name, ex.head, ex.focus, ex.layer if ex.source.n_layers > 1 else None,
                     ex.theme, ex.lang, ex.precision)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, trace, stage: str, head: int, focus: int, layer: int | None, theme: str, lang: str,
                precision: int) -> None:
        """Draw and write the figure on a worker thread (matplotlib's import and the drawing take ~0.5 s),
        then say where it went."""
        import gc

        gc.enable()  # figures are webs of cycles (the CLI runs with collection off)
        try:
            paths = export_stage(trace, stage, self.out_dir, head=head, focus=focus, layer=layer, theme=theme,
                                 lang=lang, precision=precision, dpi=self.dpi)
        except AttnvizError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        self.exported += paths
        shown = ", ".join(str(p) for p in paths)
        self.call_from_thread(self.notify, word("saved", lang).format(paths=shown), timeout=8)
