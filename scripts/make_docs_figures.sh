#!/usr/bin/env bash
# Regenerate the README's figures in docs/ with the installed attnviz (run from the repository root).
set -euo pipefail
mkdir -p docs
s="고양이는 침대에서 잔다"
attnviz explain "$s" --png docs/pipeline.png > /dev/null
attnviz explain "$s" --png docs/pipeline-dark-ko.png --theme dark --lang ko > /dev/null
tmp=$(mktemp -d) && attnviz explain "$s" --out-dir "$tmp" > /dev/null && cp "$tmp/07-softmax.png" docs/
attnviz mask "$s" --causal --pad-to 7 --png docs/mask.png > /dev/null
attnviz heads "$s" --heads 4 --d-model 16 --png docs/heads.png > /dev/null
attnviz cross "$s" --image samples/cat_on_bed.png --query 2 --png docs/cross-image.png > /dev/null
attnviz explain --image samples/cat_on_bed.png --model tests/fixtures/tiny-vit --layer 1 --head 2 --png docs/vit-image.png > /dev/null
attnviz rollout --image samples/cat_on_bed.png --model tests/fixtures/tiny-vit --png docs/vit-rollout.png --dpi 100 > /dev/null
attnviz cross "The cat sleeps on the bed." --image samples/cat_on_bed.png --model tests/fixtures/tiny-vit-gpt2 --layer 1 --png docs/caption-strip.png --dpi 100 > /dev/null
attnviz scale --png docs/scale.png > /dev/null
attnviz softmax 10.5 2.3 6.1 4.4 9.7 --png docs/softmax.png > /dev/null
attnviz heads "The cat sat on the mat" --model minilm --layer all --query cat --png docs/minilm-grid.png > /dev/null 2>&1 || echo "(minilm not installed: docs/minilm-grid.png kept)"
attnviz block "$s" --png docs/block.png > /dev/null
attnviz explain "The cat sat on the mat" --model tests/fixtures/tiny-llama --stage rope --query 4 --png docs/rope.png > /dev/null
python scripts/tui_screenshot.py docs/tui.svg > /dev/null
echo "docs/ figures written"
