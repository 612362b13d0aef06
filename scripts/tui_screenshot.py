"""Write an SVG screenshot of `attnviz tui` for the README (Textual's own screenshot, taken headless).

Run: python scripts/tui_screenshot.py docs/tui.svg [--keys down,down,right] [--size 80x24] [-- tui options]
The keys are pressed in order first (Textual's key names: down, right, m, t, h …).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from attnviz.cli.options import SEED_SENTENCE
from attnviz.tui.app import AttnvizApp
from attnviz.tui.launch import explorer as start


async def shoot(path: Path, keys: list[str], size: tuple[int, int], text: str, options: dict) -> None:
    app = AttnvizApp(start(text, **options))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.2)
        app.save_screenshot(path.name, path=str(path.parent or "."))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--keys", default="down,down,down,down,down,right,right")
    parser.add_argument("--size", default="80x24")
    parser.add_argument("--text", default=SEED_SENTENCE)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--theme", default="dark")
    parser.add_argument("--heads", type=int, default=1)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    keys = [k for k in args.keys.split(",") if k]
    asyncio.run(shoot(args.out, keys, (width, height), args.text,
                      dict(lang=args.lang, theme=args.theme, n_heads=args.heads)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
