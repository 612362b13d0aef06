"""Today's decoders: q/k-norm, RoPE, GQA, the scale used, soft-capping, the sliding window, RMSNorm and
gated FFNs."""

from . import CAPTIONS, TITLES, WORDS

# --- today's decoders (issue 11): q/k-norm, RoPE, GQA, the scale used, soft-capping, the sliding window ---------

TITLES.update({
    "x_rope": ("Input X", "입력 X"),
    "rope": ("RoPE · rotary positions", "RoPE · 회전 위치 인코딩"),
    "gqa": ("GQA · grouped-query attention", "GQA · 그룹 쿼리 어텐션"),
    "mqa": ("MQA · multi-query attention", "MQA · 멀티 쿼리 어텐션"),
    "scaled_by": ("Step 2 · Scaled Q·Kᵀ × scale", "2단계 · 스케일링 Q·Kᵀ × scale"),
    "softcap": ("Step 2½ · Soft-capping", "2½단계 · 소프트 캡핑"),
    "mask_stage": ("Mask · {what}", "마스크 · {what}"),
    "mask_window": ("Decoder · sliding-window mask (W = {w})", "디코더 · 슬라이딩 윈도 마스크 (W = {w})"),
})

CAPTIONS.update({
    "x_rope": ("What Q, K and V are projected from (a model's layer: after its first norm). No position vector "
               "is added: RoPE turns q and k instead (below).",
               "Q, K, V를 만드는 입력입니다 (실제 모델의 층이라면 첫 정규화 뒤). 위치 벡터를 더하지 않고, "
               "대신 RoPE가 q와 k를 회전시킵니다 (아래)."),
    "rope": ("Instead of adding a position vector, RoPE turns q and k: dims (i, i + r/2) form pair i, which "
             "turns by the angle θ = m · ω_i at position m, ω_i = 1 / base^(2i / r). Fast pairs turn a lot per "
             "token, slow pairs barely.",
             "위치 벡터를 더하는 대신 RoPE는 q와 k를 회전시킵니다: 차원 (i, i + r/2)가 i번째 쌍이 되고, 위치 m에서 "
             "각도 θ = m · ω_i만큼 돌아갑니다 (ω_i = 1 / base^(2i / r)). 빠른 쌍은 토큰마다 크게, 느린 쌍은 "
             "조금만 돕니다."),
    "rope_pair": ("A pair (a, b) turned by θ becomes (a·cos θ − b·sin θ, b·cos θ + a·sin θ).",
                  "쌍 (a, b)를 θ만큼 돌리면 (a·cos θ − b·sin θ, b·cos θ + a·sin θ)가 됩니다."),
    "gqa": ("Grouped-query attention: the query heads are split into groups, and each group reads one shared "
            "K/V head. Queries stay many; keys and values (the KV cache) shrink.",
            "그룹 쿼리 어텐션: 쿼리 헤드를 그룹으로 나누고, 그룹마다 K/V 헤드 하나를 함께 읽습니다. 쿼리는 "
            "그대로 많고, 키와 밸류(KV 캐시)만 줄어듭니다."),
    "mqa": ("Multi-query attention: every query head reads the one K/V head.",
            "멀티 쿼리 어텐션: 모든 쿼리 헤드가 K/V 헤드 하나를 함께 읽습니다."),
    "scaled_by": ("The scores are multiplied by the model's own scale, which here is not 1/√d_k.",
                  "스코어에 모델 고유의 스케일을 곱합니다. 이 모델의 스케일은 1/√d_k가 아닙니다."),
    "softcap": ("Gemma 2 squashes the scaled scores smoothly into (−cap, cap): cap · tanh(x / cap). Small "
                "scores pass almost unchanged; no score can grow past the cap.",
                "Gemma 2는 스케일된 스코어를 (−cap, cap) 안으로 부드럽게 눌러 넣습니다: cap · tanh(x / cap). "
                "작은 스코어는 거의 그대로이고, 어떤 스코어도 cap을 넘지 못합니다."),
    "mask_stage": ("Rows are queries, columns keys: ○ may attend, × hidden (its score becomes −∞, its weight 0).",
                   "행은 쿼리, 열은 키: ○ 볼 수 있음, × 가려짐 (스코어는 −∞, 가중치는 0)."),
    "mask_window": ("A sliding window: each query sees itself and the W − 1 tokens before it, so besides the "
                    "future (j > i), keys W or more places back (i − j ≥ W) are hidden too.",
                    "슬라이딩 윈도: 각 쿼리는 자기와 그 앞의 W − 1개 토큰만 봅니다. 그래서 미래(j > i)뿐 아니라 "
                    "W칸 이상 떨어진 키(i − j ≥ W)도 가려집니다."),
})

WORDS.update({
    "rope_params": ("base = {base}, r = {r} of d_k = {d_k} dims rotated ({pairs} pairs)",
                    "base = {base}, d_k = {d_k}차원 중 r = {r}차원 회전 ({pairs}쌍)"),
    "rope_scaling": ("scaling: {scaling}", "스케일링: {scaling}"),
    "rope_factor": ("cos and sin × attention factor {f}", "cos, sin × attention factor {f}"),
    "rope_pass": ("d{a}–d{b} pass through unrotated (partial rotary)", "d{a}–d{b}는 회전하지 않고 그대로 (부분 회전)"),
    "rope_angles": ("θ (radians) of each pair at each position m; the row m = 1 is ω itself",
                    "위치 m마다 각 쌍의 각도 θ (라디안); m = 1 행이 곧 ω"),
    "rope_focus": ("Q{q} {label} (head {head}) at m = {m}, before and after RoPE:",
                   "Q{q} {label} (헤드 {head}), 위치 m = {m}, RoPE 전후:"),
    "rope_pair_line": ("pair 1 (d1, d{b}) turns by θ = {t}: ({a0}, {b0}) → ({a1}, {b1})",
                       "1번 쌍 (d1, d{b})는 θ = {t}만큼 회전: ({a0}, {b0}) → ({a1}, {b1})"),
    "rope_pair_factor": ("Then both are multiplied by the attention factor {f}.",
                         "그다음 둘 다 attention factor {f}를 곱합니다."),
    "rope_norm": ("‖q‖ = {n0} before, {n1} after: a rotation keeps lengths and turns directions",
                  "‖q‖ 전 {n0}, 후 {n1}: 회전은 길이를 그대로 두고 방향만 바꿉니다"),
    "rope_norm_factor": ("‖q‖ = {n0} before, {n1} after: turned, and scaled by the attention factor {f}",
                         "‖q‖ 전 {n0}, 후 {n1}: 회전하고 attention factor {f}배"),
    "rope_relative": ("Only the offset m − n counts: the same q (Q{q}) and k (K{k}) before RoPE, placed at "
                      "(m, n) = ({m1}, {n1}) and ({m2}, {n2}): q·k = {s1} and {s2} (|Δ| = {d}).",
                      "상대 위치 m − n만 중요합니다: RoPE 전의 같은 q (Q{q})와 k (K{k})를 (m, n) = ({m1}, {n1})과 "
                      "({m2}, {n2})에 놓으면 q·k = {s1}, {s2} (|Δ| = {d})."),
    "qk_norm": ("q/k-norm: each head's q and k are RMS-normed over their d_k = {d_k} numbers before RoPE "
                "(Q and K below are after it): rms(Q{q}) = {rq}, rms(K{k}) = {rk}",
                "q/k 정규화: 각 헤드의 q와 k를 d_k = {d_k}개 숫자에 대해 RMSNorm한 뒤 RoPE를 적용합니다 "
                "(아래 Q, K는 정규화 후): rms(Q{q}) = {rq}, rms(K{k}) = {rk}"),
    "before_rope": ("before RoPE", "RoPE 전"),
    "kv_of": ("K and V: K/V head {kv} of {g}, shared", "K, V: K/V 헤드 {kv}/{g}, 공유"),
    "gqa_cols": ("query heads|K/V head", "쿼리 헤드|K/V 헤드"),
    "gqa_sizes": ("h = {h} query heads, g = {g} K/V heads: h/g = {r} query heads read each K/V head.",
                  "쿼리 헤드 h = {h}개, K/V 헤드 g = {g}개: K/V 헤드 하나를 쿼리 헤드 h/g = {r}개가 읽습니다."),
    "gqa_cache": ("KV cache per token and layer: 2 · g · d_k = 2 · {g} · {d_k} = {small} numbers instead of "
                  "2 · h · d_k = {big}: g/h = {g}/{h} = {pct} of the size.",
                  "토큰 하나, 층 하나의 KV 캐시: 2 · h · d_k = {big}개 대신 2 · g · d_k = 2 · {g} · {d_k} = "
                  "{small}개의 숫자: 크기가 g/h = {g}/{h} = {pct}."),
    "gqa_same": ("Heads {heads} read the very same K and V: max |K{a} − K{b}| = {d}.",
                 "헤드 {heads}는 완전히 같은 K, V를 읽습니다: 최대 |K{a} − K{b}| = {d}."),
    "gqa_this": ("this view: head {head} → K/V head {kv}", "지금 보는 헤드: {head} → K/V 헤드 {kv}"),
    "scale_used": ("scale = {expr} = {value}{why}: every score × {value}",
                   "scale = {expr} = {value}{why}: 모든 스코어 × {value}"),
    "scale_gemma": (" (query_pre_attn_scalar = {s}, not d_k = {d_k})",
                    " (d_k = {d_k}가 아닌 query_pre_attn_scalar = {s})"),
    "softcap_line": ("cap = {cap}: capped = {cap} · tanh(scaled / {cap})",
                     "cap = {cap}: capped = {cap} · tanh(scaled / {cap})"),
    "mask_what_causal": ("causal", "인과(causal)"),
    "mask_what_window": ("causal + sliding window W = {w}", "인과 + 슬라이딩 윈도 W = {w}"),
    "mask_what_padding": ("padding", "패딩"),
    "mask_sees": ("Q{q} {label} sees {n} of {s} keys: {keys}", "Q{q} {label}는 키 {s}개 중 {n}개를 봅니다: {keys}"),
    "mask_window_out": ("{keys}: out of the window (i − j ≥ {w})", "{keys}: 윈도 밖 (i − j ≥ {w})"),
    "mask_future": ("{keys}: the future (j > i)", "{keys}: 미래 (j > i)"),
})

# the blocks of today's decoders: RMSNorm, gated FFNs, Gemma's norms around each sublayer
TITLES.update({
    "blk_rmsnorm": ("{n} RMSNorm", "{n} RMS 정규화(RMSNorm)"),
    "blk_pre_attn_rms": ("Pre-norm: Q, K and V are projected from RMS(x), the RMSNorm above; the residual below "
                         "adds Attn to x itself, not to RMS(x).",
                         "Pre-norm: Q, K, V는 바로 위 RMSNorm의 출력 RMS(x)에서 만듭니다. 아래 잔차 연결은 Attn을 "
                         "RMS(x)가 아닌 x 자체에 더합니다."),
    "blk_final_rmsnorm": ("{n} Final RMSNorm", "{n} 최종 RMS 정규화(RMSNorm)"),
    "blk_post_norm": ("{n} RMSNorm of {f}'s output", "{n} {f} 출력의 RMS 정규화"),
    "blk_residual_rms": ("{n} Residual: x + {f}(RMS(x))", "{n} 잔차 연결(Residual): x + {f}(RMS(x))"),
    "blk_residual_post": ("{n} Residual: x + N′({f})", "{n} 잔차 연결(Residual): x + N′({f})"),
    "blk_gated": ("{n} Gated feed-forward network ({kind})", "{n} 게이트 피드포워드 네트워크({kind})"),
})
CAPTIONS.update({
    "blk_rmsnorm": ("Each token's vector (row) is divided by its root mean square: RMSNorm(x) = x / √(mean(x²) + ε) "
                    "· w. Unlike LayerNorm, no mean is subtracted and no β is added: cheaper, and it works as well.",
                    "토큰 벡터(행)마다 제곱평균제곱근(RMS)으로 나눕니다: RMSNorm(x) = x / √(mean(x²) + ε) · w. "
                    "LayerNorm과 달리 평균을 빼지 않고 β도 더하지 않아 더 간단하면서도 잘 동작합니다."),
    "blk_pre_attn_rms": ("Pre-norm: Q, K and V are projected from RMS(x), the RMSNorm above; the residual below "
                         "adds Attn to x itself, not to RMS(x).",
                         "Pre-norm: Q, K, V는 바로 위 RMSNorm의 출력 RMS(x)에서 만듭니다. 아래 잔차 연결은 Attn을 "
                         "RMS(x)가 아닌 x 자체에 더합니다."),
    "blk_final_rmsnorm": ("The model's own RMSNorm after its last block (model.norm): transformers reports the "
                          "last hidden state after it.",
                          "마지막 블록 뒤에 오는 모델 자체의 RMSNorm(model.norm): transformers의 마지막 은닉 상태는 "
                          "이것을 거친 값입니다."),
    "blk_post_norm": ("Gemma 2/3 norm the sublayer's output again before adding it to x (a 'sandwich' of norms).",
                      "Gemma 2/3은 서브레이어의 출력을 x에 더하기 전에 한 번 더 정규화합니다 (정규화 '샌드위치')."),
    "blk_gated": ("A gated FFN: one projection (the gate) goes through the activation and multiplies another (up) "
                  "element by element, then W_down brings it back: (act(x·W_gate) ⊙ x·W_up)·W_down. No biases.",
                  "게이트 FFN: 한 투영(gate)은 활성화 함수를 거쳐 다른 투영(up)과 원소별로 곱해지고, W_down이 "
                  "d_model로 되돌립니다: (act(x·W_gate) ⊙ x·W_up)·W_down. 편향은 없습니다."),
})
WORDS.update({
    "rms_cols": ("RMS\nbefore|RMS\nnormed|RMS\nafter", "RMS\n전|RMS\n정규화|RMS\n후"),
    "rms_focus": ("{label}: mean(x²) = {ms}, ε = {eps} → RMS = √(mean(x²) + ε) = {rms}; x / RMS has RMS {r1}",
                  "{label}: mean(x²) = {ms}, ε = {eps} → RMS = √(mean(x²) + ε) = {rms}; x / RMS의 RMS = {r1}"),
    "rms_scale": ("Then each dimension is multiplied by the learned scale {scale} (no mean, no β):",
                  "그다음 차원마다 학습된 스케일 {scale}를 곱합니다 (평균도 β도 없음):"),
    "rms_scale_one": ("Here w = 1 in every dimension (its initial value), so RMSNorm(x) is x / RMS itself.",
                      "여기서는 모든 차원의 w = 1 (초기값)이므로 RMSNorm(x)는 x / RMS 그대로입니다."),
    "gated_shapes": ("{t} × {d} → gate, up: {t} × {f} → {act}(gate) ⊙ up → {t} × {d}",
                     "{t} × {d} → gate, up: {t} × {f} → {act}(gate) ⊙ up → {t} × {d}"),
    "gated_focus": ("{label}: {act}(gate) × up = product, the first hidden units:",
                    "{label}: {act}(gate) × up = 곱, 앞쪽 은닉 유닛:"),
    "block_dims_rms": ("d_model = {d}, d_ff = {f}, heads = {h}{kv}, {ffn}, {order}-norm {norm}, ε = {eps}",
                       "d_model = {d}, d_ff = {f}, 헤드 {h}개{kv}, {ffn}, {order}-norm {norm}, ε = {eps}"),
    "kv_heads_n": (" (K/V heads {g})", " (K/V 헤드 {g}개)"),
    "ffn_gated_desc": ("{kind} ({act} gate)", "{kind} ({act} 게이트)"),
})

# the RoPE and GQA figures (render/figure/rope.py, gqa.py)
WORDS.update({
    "fig_positions": ("positions m (rows)", "위치 m (행)"),
    "fig_pairs": ("pairs i (columns): dims i and i + r/2", "쌍 i (열): 차원 i와 i + r/2"),
    "fig_rope_angles": ("θ = m · ω_i mod 2π: where each pair points (a cyclic colour scale)",
                        "θ = m · ω_i mod 2π: 각 쌍이 가리키는 방향 (순환 색 척도)"),
    "fig_rope_table": ("The angle of every pair at every position", "위치마다, 쌍마다의 회전 각도"),
    "fig_rope_sub": ("ω_i = 1 / base^(2i / r),  base = {base},  r = {r} of d_k = {d_k} dims rotated",
                     "ω_i = 1 / base^(2i / r),  base = {base},  d_k = {d_k}차원 중 r = {r}차원 회전"),
    "fig_q_rope": ("Q{q} “{token}” (head {head}) before and after RoPE", "Q{q} “{token}” (헤드 {head}) RoPE 전후"),
    "fig_pair": ("pair {i} (d{a}, d{b})\nθ = {t}", "{i}번 쌍 (d{a}, d{b})\nθ = {t}"),
    "fig_pair_legend": ("dashed: q before RoPE · solid: after, turned by θ · dotted: the same length",
                        "점선 화살표: RoPE 전 q · 실선: θ만큼 돌린 후 · 점 원: 같은 길이"),
    "fig_query_heads": ("query heads", "쿼리 헤드"),
    "fig_kv_heads": ("K/V heads", "K/V 헤드"),
    "fig_gqa_sub": ("h = {h} query heads share g = {g} K/V heads: query head i reads K/V head ⌊i / (h/g)⌋",
                    "쿼리 헤드 h = {h}개가 K/V 헤드 g = {g}개를 나눠 씀: 쿼리 헤드 i는 K/V 헤드 ⌊i / (h/g)⌋를 읽음"),
    "fig_cache": ("KV cache per token and layer (numbers)", "토큰 하나, 층 하나의 KV 캐시 (숫자 개수)"),
    "fig_cache_mha": ("multi-head: 2 · h · d_k = {n}", "멀티 헤드: 2 · h · d_k = {n}"),
    "fig_cache_gqa": ("this model: 2 · g · d_k = {n} ({pct})", "이 모델: 2 · g · d_k = {n} ({pct})"),
    "fig_group": ("group {kv}", "그룹 {kv}"),
})
