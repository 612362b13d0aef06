"""The flash (tiled attention) view."""

from . import CAPTIONS, TITLES, WORDS

# --- the flash (tiled attention) view -----------------------------------------------------------

TITLES.update({
    "flash_tiles": ("Tiles · keys in blocks of {b}", "타일 · 키를 {b}개씩 블록으로"),
    "flash_steps": ("Online softmax · Q{q} {label}", "온라인 소프트맥스 · Q{q} {label}"),
    "flash_result": ("Result · tiled = standard", "결과 · 타일 방식 = 표준 방식"),
    "flash_memory": ("Memory · T × S scores vs tiles", "메모리 · T × S 스코어 vs 타일"),
})

CAPTIONS.update({
    "flash_tiles": ("Flash attention never builds the T × S score matrix: it reads the keys one block at a "
                    "time and keeps, per query, only a running max m, a running sum ℓ and a running output.",
                    "플래시 어텐션은 T × S 스코어 행렬을 만들지 않습니다: 키를 한 블록씩 읽으면서 쿼리마다 "
                    "누적 최댓값 m, 누적 합 ℓ, 누적 출력만 들고 갑니다."),
    "flash_steps": ("Per block: m_new = max(m, block max); rescale = exp(m − m_new) shrinks what was summed "
                    "against the old max; ℓ = rescale·ℓ + Σ exp(s − m_new); the output so far is "
                    "(rescale·ℓ_old·O + Σ exp(s − m_new)·V) ÷ ℓ.",
                    "블록마다: m_new = max(m, 블록 최대); 재조정 계수 exp(m − m_new)로 예전 최댓값 기준의 합을 "
                    "줄이고; ℓ = 재조정·ℓ + Σ exp(s − m_new); 지금까지의 출력은 "
                    "(재조정·ℓ_old·O + Σ exp(s − m_new)·V) ÷ ℓ."),
    "flash_result": ("The last block's output is softmax·V over every key: the same numbers as the standard "
                     "way, up to float rounding.",
                     "마지막 블록의 출력은 모든 키에 대한 softmax·V입니다: 부동소수점 반올림 오차 범위에서 "
                     "표준 방식과 같은 값입니다."),
    "flash_memory": ("The standard way holds T × S scores (n² × 4 bytes in float32); a tile holds "
                     "B × B scores + Q, K, V, O tiles (4 × B × d) + m, ℓ, whatever n is.",
                     "표준 방식은 T × S 스코어(float32로 n² × 4바이트)를 들고 있지만, 타일은 n과 상관없이 "
                     "B × B 스코어 + Q, K, V, O 타일(4 × B × d) + m, ℓ만 듭니다."),
})

WORDS.update({
    "flash_block": ("Block {n}", "블록 {n}"),
    "flash_n_blocks": ("S = {s} keys, B = {b} → {n} blocks", "키 S = {s}개, B = {b} → 블록 {n}개"),
    "flash_skipped": ("every key hidden: skipped, nothing changes", "모든 키가 가려짐: 건너뜀, 그대로"),
    "flash_block_max": ("block max", "블록 최대"),
    "flash_rescale": ("rescale", "재조정"),
    "flash_partial": ("output so far", "지금까지의 출력"),
    "flash_tiled": ("tiled", "타일 방식"),
    "flash_standard": ("standard", "표준 방식"),
    "flash_focus_diff": ("Q{q}: max |tiled − standard| = {d}", "Q{q}: 최대 |타일 − 표준| = {d}"),
    "flash_all_diff": ("all {t} queries: max |tiled − standard| = {d}", "쿼리 {t}개 전체: 최대 |타일 − 표준| = {d}"),
    "flash_some_diff": ("{n} of {t} queries recomputed the standard way, a row at a time: max |tiled − "
                        "standard| = {d} (the tiled kernel runs in float32 on long texts)",
                        "쿼리 {t}개 중 {n}개를 표준 방식으로 한 행씩 다시 계산: 최대 |타일 − 표준| = {d} "
                        "(긴 텍스트에서 타일 커널은 float32)"),
    "flash_no_matrix": ("The tiled way never held the T × S matrix.",
                        "타일 방식은 T × S 행렬을 한 번도 들지 않았습니다."),
    "flash_cut": ("Showing {rows} of {n} queries: use --full to see all.",
                  "쿼리 {n}개 중 {rows}개만 보입니다: 전체는 --full로 보세요."),
    "flash_full": ("full T × S", "전체 T × S"),
    "flash_tile": ("tile, B = {b}", "타일, B = {b}"),
    "flash_ratio": ("ratio", "비율"),
    "flash_d": ("float32, d_k = {d_k}, d_v = {d_v}", "float32, d_k = {d_k}, d_v = {d_v}"),
    "flash_run": ("This run (T = {t}, S = {s}): the score matrix is {scores}; measured peak (tracemalloc): "
                  "standard {full}, tiled {tiled}.",
                  "이번 실행 (T = {t}, S = {s}): 스코어 행렬은 {scores}; 측정한 최대 메모리 (tracemalloc): "
                  "표준 {full}, 타일 {tiled}."),
    "flash_run_small": ("For a few tokens fixed costs dominate both; the gap opens as n grows (the table).",
                        "토큰이 적으면 둘 다 고정 비용이 대부분이고, n이 커질수록 차이가 벌어집니다 (위 표)."),
})
