"""The summary view of long texts (explain, heads, mask past the full-trace limit)."""

from . import CAPTIONS, TITLES, WORDS

TITLES.update({
    "summary": ("Summary trace · {t} tokens", "요약 트레이스 · 토큰 {t}개"),
    "summary_focus": ("Q{q} {label} · head {h}", "Q{q} {label} · 헤드 {h}"),
    "summary_rows": ("Every query · head {h}", "모든 쿼리 · 헤드 {h}"),
})

CAPTIONS.update({
    "summary": ("A full trace keeps every token × token matrix ({cells} numbers a head), so attnviz keeps one "
                "for at most {limit} tokens. This is a summary instead, computed tile by tile without ever "
                "holding T × S: per query its top {k} keys and their weights, the entropy of its row, its max m "
                "and normalizer ℓ, and the output. --json writes it as attnviz.summary/1; --png draws block-"
                "pooled matrices.",
                "전체 트레이스는 토큰 × 토큰 행렬을 모두 들고 있어서(헤드마다 {cells}개) 토큰 {limit}개까지만 "
                "만듭니다. 대신 T × S를 한 번도 들지 않고 타일마다 계산한 요약입니다: 쿼리마다 상위 {k}개 키와 "
                "가중치, 행의 엔트로피, 최댓값 m과 정규화 합 ℓ, 그리고 출력. --json은 attnviz.summary/1로, "
                "--png는 블록으로 묶은 행렬을 그립니다."),
})

WORDS.update({
    "summary_top": ("top {k} keys (weight)", "상위 {k}개 키 (가중치)"),
    "summary_stats": ("m = {m} · ℓ = {l} · entropy H = {h} nats", "m = {m} · ℓ = {l} · 엔트로피 H = {h} nats"),
    "summary_output": ("output", "출력"),
    "summary_z": ("Z = concat·W_O", "Z = concat·W_O"),
    "summary_key": ("top key", "최상위 키"),
    "summary_cut": ("Showing {rows} of {n} queries: use --full to see all.",
                    "쿼리 {n}개 중 {rows}개만 보입니다: 전체는 --full로 보세요."),
    "summary_mask": ("{mask} · {h} head(s) · d_k = {d_k}", "{mask} · 헤드 {h}개 · d_k = {d_k}"),
    "summary_nomask": ("no mask", "마스크 없음"),
    "summary_causal": ("causal mask", "룩어헤드 마스크"),
    "summary_window": ("sliding window {w}", "슬라이딩 윈도 {w}"),
    "summary_model": ("{name} ({arch}) · layer {layer} of layers 0–{last}",
                      "{name} ({arch}) · 레이어 0–{last} 중 레이어 {layer}"),
    "summary_before": ("{layers} ran first, their heads tile by tile", "{layers}을 먼저 실행 (헤드는 타일마다)"),
    "summary_layers": ("layers 0–{prev}", "레이어 0–{prev}"),
    "summary_layer0": ("layer 0", "레이어 0"),
    "summary_kv": ("{g} K/V heads (GQA)", "K/V 헤드 {g}개 (GQA)"),
    "summary_rope": ("RoPE θ = {theta}", "RoPE θ = {theta}"),
    "summary_scale": ("scale × {expr}", "스케일 × {expr}"),
    "summary_softcap": ("soft-cap {cap}", "소프트캡 {cap}"),
})
