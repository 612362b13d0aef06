"""The explorer's own words, in English and Korean: stage names in the stage bar, the status line, the keys.

The panels' titles and captions are the explain view's (attnviz/render/text.py); only what the explorer
adds around them lives here.
"""

from __future__ import annotations

# key → (English, Korean)
WORDS: dict[str, tuple[str, str]] = {
    # the stage bar, one short name per stage of state.STAGES
    "stage_input": ("input", "입력"),
    "stage_qkv": ("Q/K/V", "Q/K/V"),
    "stage_rope": ("RoPE", "RoPE"),
    "stage_gqa": ("GQA", "GQA"),
    "stage_scores": ("Q·Kᵀ", "Q·Kᵀ"),
    "stage_scaled": ("÷√d_k", "÷√d_k"),
    "stage_scaled_by": ("× scale", "× 스케일"),
    "stage_softcap": ("soft-cap", "소프트캡"),
    "stage_mask": ("mask", "마스크"),
    "stage_softmax": ("softmax", "소프트맥스"),
    "stage_weighted": ("weighted sum", "가중합"),
    "stage_output": ("output", "출력"),
    # the status line
    "query": ("query", "쿼리"),
    "head": ("head", "헤드"),
    "layer": ("layer", "레이어"),
    "no_mask": ("no mask", "마스크 없음"),
    "causal": ("causal mask", "인과 마스크"),
    # the heatmap
    "heatmap": ("heatmap", "히트맵"),
    "focus_row": ("▶ focus query", "▶ 기준 쿼리"),
    "hidden_cell": ("× hidden", "× 가려짐"),
    "cols_cut": ("columns {first}–{last}/{n}", "열 {first}–{last}/{n}"),
    "rows_cut": ("rows {first}–{last}/{n}", "행 {first}–{last}/{n}"),
    # messages
    "saved": ("saved {paths}", "저장했습니다: {paths}"),
    "saving": ("drawing the figure…", "그림을 그리는 중…"),
    "one_head": ("this layer has one head (--heads H, or --model, gives more)",
                 "헤드가 하나뿐입니다 (--heads H 또는 --model 로 더 볼 수 있습니다)"),
    "one_layer": ("the seeded model has one layer (--model gives a checkpoint's layers)",
                  "시드 모델은 레이어가 하나뿐입니다 (--model 로 체크포인트의 레이어를 볼 수 있습니다)"),
    "no_mask_hint": ("No mask: every query may attend to every key. Press m for the causal (look-ahead) mask.",
                     "마스크 없음: 모든 쿼리가 모든 키를 볼 수 있습니다. "
                     "m 을 누르면 인과(Look-Ahead) 마스크가 켜집니다."),
    # the footer and the key help
    "footer": ("←→ query  ↑↓ stage  h head  m mask  t 한국어  e export  ? keys  q quit",
               "←→ 쿼리  ↑↓ 단계  h 헤드  m 마스크  t English  e 내보내기  ? 키  q 종료"),
    "footer_model": ("←→ query  ↑↓ stage  h head  l layer  m mask  t 한국어  e export  ? keys  q quit",
                     "←→ 쿼리  ↑↓ 단계  h 헤드  l 레이어  m 마스크  t English  e 내보내기  ? 키  q 종료"),
    "keys_title": ("Keys", "키 안내"),
    "keys_close": ("any key closes this", "아무 키나 누르면 닫힙니다"),
}

#: (keys, English, Korean) rows of the key help (`?`).
KEYS: tuple[tuple[str, str, str], ...] = (
    ("← →  click", "move the focus query (or click a token)", "기준 쿼리 이동 (토큰을 클릭해도 됩니다)"),
    ("Home End", "first / last query", "첫 / 마지막 쿼리"),
    ("↑ ↓", "previous / next stage (or click a stage)", "이전 / 다음 단계 (단계를 클릭해도 됩니다)"),
    ("h H", "next / previous head", "다음 / 이전 헤드"),
    ("l L", "next / previous layer (--model)", "다음 / 이전 레이어 (--model)"),
    ("m", "causal mask on / off", "인과 마스크 켜기 / 끄기"),
    ("t", "English / 한국어", "English / 한국어"),
    ("d", "light / dark colours (and figures)", "밝은 / 어두운 색 (그림도)"),
    ("PgUp PgDn", "scroll the panel", "패널 스크롤"),
    ("e", "export this stage as a figure", "이 단계를 그림 파일로 저장"),
    ("?", "this help", "이 도움말"),
    ("q", "quit", "종료"),
)


def word(key: str, lang: str) -> str:
    return WORDS[key][lang == "ko"]
