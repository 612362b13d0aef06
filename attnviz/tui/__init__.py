"""`attnviz tui`: explore attention interactively in the terminal (Textual).

    launch    the first Explorer, the App class (or how to install Textual), the run (attnviz/cli/tui.py calls it)
    state     the Explorer: traces per layer and mask, focus query, stage, head, language (no Textual)
    stages    each stage's explain panel and heatmap blocks (rich, no Textual)
    heatmap   a matrix as shaded terminal cells, the focus row marked (rich, no Textual)
    export    `e`: the stage's figure through render/figure, as --png draws it (matplotlib, lazily)
    widgets   the clickable token and stage strips, the key help (Textual)
    app       the Textual App: layout, keys, redraws

Textual is imported by widgets and app alone, and only when `attnviz tui` runs.
"""
