"""The explorer driven headless by Textual's Pilot at 80 × 24: keys and clicks move the focus query, step the
stages, change head, layer, mask and language; `e` writes a figure; `?` shows the keys; `q` quits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.cells import cell_len

from attnviz.tui.app import AttnvizApp
from attnviz.tui.launch import explorer as start

SEED = "고양이는 침대에서 잔다"

FIXTURES = Path(__file__).parent / "fixtures"


def drive(explorer, steps, *, size=(80, 24), out_dir: Path | str = "."):
    """Run the app headless; `steps(app, pilot)` is a coroutine that drives it. Returns the app."""
    app = AttnvizApp(explorer, out_dir=out_dir)

    async def run():
        async with app.run_test(size=size, notifications=True) as pilot:
            await pilot.pause()
            await steps(app, pilot)

    asyncio.run(run())
    return app


def screen_rows(app) -> list[str]:
    """The terminal's lines as drawn (the screen's composed strips), as plain text; Hangul takes two cells."""
    return [strip.text for strip in app.screen._compositor.render_strips()]  # noqa: SLF001


def _row(app, y: int) -> str:
    return screen_rows(app)[y]


def panel_text(app) -> str:
    """The stage panel, as the user would read it (not clipped by the scroll view)."""
    from console import render

    return render(app.query_one("#panel-body").content, 79)


def test_arrows_move_the_focus_query_and_the_detail_lines():
    async def steps(app, pilot):
        await pilot.press("down", "down")  # input → Q/K/V → scores
        assert app.explorer.stage_name == "scores"
        assert "Q1 · K1 →" in panel_text(app)
        await pilot.press("right", "right")
        assert app.explorer.focus == 2
        text = panel_text(app)
        assert "Q3 · K1 →" in text and "Q1 · K1 →" not in text
        await pilot.press("left")
        assert app.explorer.focus == 1 and "Q2 · K5 →" in panel_text(app)
        await pilot.press("end")
        assert app.explorer.focus == 4
        await pilot.press("home")
        assert app.explorer.focus == 0

    drive(start(SEED), steps)


def test_up_and_down_step_through_every_stage():
    titles = ["[Input]", "[Step 0 · Query, Key, Value]", "[Step 1 · Scores Q·Kᵀ]", "[Step 2 · Scaled",
              "[Encoder · no mask]", "[Step 3 · Softmax]", "[Step 4 · Weighted sum softmax·V]",
              "[Output = concat·W_O]"]

    async def steps(app, pilot):
        for k, expected in enumerate(titles):
            assert expected in panel_text(app), (k, expected)
            await pilot.press("down")
        assert app.explorer.stage_name == "output"  # stops at the last stage
        await pilot.press("up")
        assert app.explorer.stage_name == "weighted"

    drive(start(SEED), steps)


def test_h_changes_the_head_and_its_numbers():
    async def steps(app, pilot):
        trace = app.explorer.trace
        await pilot.press("down", "down", "down", "down", "down")  # softmax
        best = lambda h: f"({trace.heads[h].weights[0].max():.2f}) ← most attended"  # noqa: E731
        assert best(0) in panel_text(app)
        assert "head 1/2" in _row(app, 0)
        await pilot.press("h")
        assert app.explorer.head == 1 and "head 2/2" in _row(app, 0)
        assert best(1) in panel_text(app)
        await pilot.press("H")
        assert app.explorer.head == 0

    drive(start(SEED, n_heads=2, d_k=4), steps)


def test_l_changes_the_layer_of_a_real_model():
    async def steps(app, pilot):
        assert "layer 0 (0–1)" in _row(app, 0)
        await pilot.press("l")
        assert app.explorer.layer == 1 and app.explorer.trace.model.layer == 1
        assert "layer 1 (0–1)" in _row(app, 0)
        await pilot.press("L")
        assert app.explorer.layer == 0

    drive(start("the cat sat on the mat", model=str(FIXTURES / "tiny-gpt2")), steps)


def test_m_toggles_the_causal_mask_and_t_the_language():
    async def steps(app, pilot):
        await pilot.press(*["down"] * 4)  # the mask stage
        assert "Press m" in panel_text(app)
        await pilot.press("m")
        assert app.explorer.causal and "causal mask" in _row(app, 0)
        assert "[Mask · causal]" in panel_text(app) and "−∞" in panel_text(app)
        assert "Q1 고양이 sees 1 of 5 keys: K1" in panel_text(app)
        await pilot.press("t")
        assert app.explorer.lang == "ko"
        assert "인과 마스크" in _row(app, 0) and "[마스크 · " in panel_text(app)
        assert "마스크" in _row(app, 2)  # the stage bar in Korean

    drive(start(SEED), steps)


def test_clicking_a_token_or_a_stage():
    async def steps(app, pilot):
        strip = app.query_one("#tokens")
        start_cell, _, index = next(span for span in strip._spans if span[2] == 3)  # 에서
        assert await pilot.click("#tokens", offset=(start_cell + 1, 0))
        assert app.explorer.focus == index == 3
        stages = app.query_one("#stages")
        start_cell, _, index = stages._spans[5]  # softmax
        assert await pilot.click("#stages", offset=(start_cell + 1, 0))
        assert app.explorer.stage_name == "softmax"

    drive(start(SEED), steps)


def test_e_exports_the_current_stage_and_says_where(tmp_path):
    async def steps(app, pilot):
        await pilot.press(*["down"] * 5, "right")  # softmax, focus on 는
        await pilot.press("d")  # dark → light: the explorer and the figure
        assert app.theme == "textual-light" and app.explorer.theme == "light"
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        toasts = [str(toast.render()) for toast in app.screen.query("Toast")]  # the notices on screen
        assert any(t.startswith("saved ") and t.endswith(str(tmp_path / "attnviz-softmax.png")) for t in toasts)

    app = drive(start(SEED), steps, out_dir=tmp_path)
    assert app.exported == [tmp_path / "attnviz-softmax.png"]
    assert (tmp_path / "attnviz-softmax.png").read_bytes()[:4] == b"\x89PNG"


def test_wide_terminals_put_the_heatmap_beside_the_panel():
    async def steps(app, pilot):
        heatmap, panel = app.query_one("#heatmap"), app.query_one("#panel")
        assert heatmap.region.y < panel.region.y  # 80 columns: above it
        await pilot.resize_terminal(130, 30)
        await pilot.pause()
        assert app.query_one("#main").has_class("wide")
        assert heatmap.region.right <= panel.region.x and heatmap.region.y == panel.region.y
        assert all(cell_len(row) <= 130 for row in screen_rows(app))

    drive(start(SEED), steps)


def test_question_mark_shows_the_keys_and_q_quits():
    async def steps(app, pilot):
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        assert "export this stage as a figure" in "\n".join(screen_rows(app))
        await pilot.press("x")  # any key closes it
        assert type(app.screen).__name__ != "HelpScreen"
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(start(SEED), steps)


def test_first_screen_at_80_by_24_in_korean():
    async def steps(app, pilot):
        rows = screen_rows(app)
        assert len(rows) == 24
        assert all(cell_len(row) <= 80 for row in rows)
        assert rows[0].startswith(" attnviz · seed 0")
        assert all(label in rows[1] for label in ("고양이", "는", "침대", "에서", "잔다"))  # every token shown
        assert "입력" in rows[2] and "출력" in rows[2]
        assert rows[-1].strip().endswith("q 종료")
        # the heatmap's rows: Hangul labels padded by display width, so the shaded cells start in one column
        strips = app.screen._compositor.render_strips()  # noqa: SLF001
        starts = set()
        for y in range(3, 10):
            if not rows[y].lstrip().startswith(("▶", "고양이", "는", "침대", "에서", "잔다")):
                continue
            x, background = 0, strips[y]._segments[0].style.bgcolor  # noqa: SLF001
            for segment in strips[y]:
                if segment.style.bgcolor != background:  # the first shaded cell
                    starts.add(x)
                    break
                x += cell_len(segment.text)
        assert len(starts) == 1 and starts.pop() > cell_len("▶ 고양이")

    drive(start(SEED, lang="ko"), steps)


def test_page_keys_scroll_the_panel_and_a_new_stage_shows_the_focus_detail():
    async def steps(app, pilot):
        panel = app.query_one("#panel")
        assert panel.scroll_y == 0 and panel.max_scroll_y > 0  # the input stage is longer than 24 rows
        await pilot.press("pagedown")
        await pilot.pause()
        assert panel.scroll_y > 0
        await pilot.press("pageup")
        await pilot.pause()
        assert panel.scroll_y == 0
        await pilot.press("down", "down", "right")  # scores, Q2: its detail lines are brought into view
        await pilot.pause()
        shown = "\n".join(screen_rows(app))
        assert "Q2 · K1 →" in shown and "Q2 · K5 →" in shown

    drive(start(SEED), steps)


def test_every_stage_of_a_decoder_headless():
    async def steps(app, pilot):
        seen = [app.explorer.stage_name]
        for _ in range(len(app.explorer.stages)):
            await pilot.press("down")
            seen.append(app.explorer.stage_name)
            if seen[-1] == "softcap":  # the stage bar (11 stages: windowed at 80 columns) shows the current one
                assert "soft-cap" in _row(app, 2) and "· Soft-capping]" in panel_text(app)
        assert seen[:-1] == list(app.explorer.stages) and seen[-1] == "output"
        await pilot.press("l", "h", "up", "up", "up")  # the mask stage of layer 1, head 2
        assert app.explorer.stage_name == "mask" and app.explorer.layer == 1 and app.explorer.head == 1
        assert "[Mask · causal" in panel_text(app)

    drive(start("the cat sat on the mat", model=str(FIXTURES / "tiny-gemma2")), steps)
