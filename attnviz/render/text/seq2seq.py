"""Encoder–decoder checkpoints: T5's relative position bias, generation, the alignment figure."""

from . import CAPTIONS, TITLES, WORDS

# --- encoder–decoder checkpoints: T5's relative position bias, generation ------------------------------
TITLES.update({
    "no_scale": ("No scaling (T5)", "스케일링 없음 (T5)"),
    "rel_bias": ("Relative position bias (T5)", "상대 위치 편향 (T5)"),
    "rel_buckets": ("Bucket of each offset", "오프셋별 버킷"),
    "generation": ("Generation", "생성"),
})
CAPTIONS.update({
    "no_scale": ("T5 does not divide the scores by √d_k: they go on as they are (× 1). Its initialisation folds "
                 "the 1/√d_k into W_Q instead.",
                 "T5는 점수를 √d_k로 나누지 않습니다: 그대로(× 1) 다음 단계로 갑니다. 1/√d_k는 W_Q의 초기화에 "
                 "들어 있습니다."),
    "rel_bias": ("T5 adds no position vectors to its tokens. Instead each score gets a learned bias that depends "
                 "only on the offset key − query, through its bucket: scores + bias[bucket, head].",
                 "T5는 토큰에 위치 벡터를 더하지 않습니다. 대신 점수마다 오프셋(키 − 쿼리)의 버킷에 따라 학습된 "
                 "편향을 더합니다: 점수 + bias[버킷, 헤드]."),
    "rel_buckets": ("Small offsets get a bucket each; larger ones share buckets on a log scale up to ±{m}. "
                    "{side}",
                    "작은 오프셋은 하나씩 버킷을 갖고, 큰 오프셋은 ±{m}까지 로그 간격으로 버킷을 나눠 씁니다. {side}"),
    "generation": ("At each step the decoder reads the start token and the tokens picked so far; the last "
                   "position's logits go through softmax, and the {method} pick is appended.",
                   "단계마다 디코더가 시작 토큰과 지금까지 고른 토큰을 읽고, 마지막 위치의 로짓이 softmax를 거쳐 "
                   "{method} 방식으로 고른 토큰이 뒤에 붙습니다."),
})
WORDS.update({
    "rel_bidir": ("Encoder: keys after the query use the upper half of the buckets.",
                  "인코더: 쿼리 뒤의 키는 버킷의 위쪽 절반을 씁니다."),
    "rel_causal": ("Decoder: only earlier keys count; later ones (masked anyway) fall in bucket 0.",
                   "디코더: 앞쪽 키만 셉니다. 뒤쪽 키는 (어차피 가려지지만) 버킷 0에 들어갑니다."),
    "rel_cols": ("offset|bucket|bias (head {h})", "오프셋|버킷|편향 (헤드 {h})"),
    "rel_table": ("bias per bucket (rows) and head (columns)", "버킷(행)과 헤드(열)별 편향"),
    "rel_sum": ("scores + bias (what the softmax reads)", "점수 + 편향 (softmax가 읽는 값)"),
    "gen_cols": ("step|input|top tokens (p)|pick|text so far", "단계|입력|상위 토큰 (확률)|선택|지금까지의 글"),
    "gen_out": ("Output: {text}", "출력: {text}"),
    "gen_stop": ("stopped at the end-of-sequence token", "문장 끝 토큰에서 멈춤"),
})

# --- the alignment figure (cross --model --png): target rows × source columns ---------------------------
CAPTIONS.update({
    "alignment": ("Each row is a target token: how much it reads each source token (the row sums to 1) — "
                  "which source word each target word looks at.",
                  "각 행은 목표 토큰 하나입니다: 원문 토큰 각각을 얼마나 읽는지(행의 합 = 1), 즉 목표 단어마다 "
                  "어느 원문 단어를 보는지를 나타냅니다."),
    "alignment_mean": ("Shown: the mean of the heads' weights, itself a distribution over the source; single "
                       "heads can disagree (--head H shows one).",
                       "그림은 헤드들의 가중치 평균이며, 평균도 원문 위의 분포입니다. 헤드마다 다를 수 있습니다 "
                       "(--head H로 하나씩 보기)."),
    "alignment_head": ("Shown: one head; --mean averages them.",
                       "그림은 헤드 하나입니다. --mean은 헤드들의 평균을 보여 줍니다."),
})
WORDS.update({
    "fig_alignment": ("Alignment", "정렬"),
    "align_layer": ("decoder layer {layer} (0–{last})", "디코더 {layer}층 (0–{last})"),
    "align_mean": ("mean over {h} heads", "헤드 {h}개의 평균"),
    "align_mean_of": ("mean over {h} heads of {formula}", "헤드 {h}개의 평균: {formula}"),
    "align_unscaled": ("not scaled", "스케일링 없음"),
    "align_t5": ("T5: scores × 1, not ÷ √d_k; no position bias in cross-attention",
                 "T5: 점수 × 1 (√d_k로 나누지 않음), 크로스 어텐션에는 위치 편향 없음"),
    "align_sizes": ("{t} target × {s} source tokens", "목표 토큰 {t}개 × 원문 토큰 {s}개"),
})
WORDS.update({
    "stack_encoder": ("encoder", "인코더"),
    "stack_decoder": ("decoder self-attention (masked)", "디코더 셀프 어텐션 (마스크)"),
    "stack_cross": ("cross-attention", "크로스 어텐션"),
})
TITLES.update({"heads_cross": ("Cross-attention × {h} heads", "크로스 어텐션 × {h}개 헤드")})

#: model_type of the encoder–decoder families: their traces say which attention they are
ENCODER_DECODERS = ("t5", "mt5", "bart", "mbart", "marian")


def stack_label(trace, lang: str) -> str:
    """Which attention of a model a trace is — "cross-attention" for any cross trace; for an encoder–decoder
    checkpoint's self-attention "encoder" or "decoder self-attention (masked)"; "" otherwise."""
    if trace.kind == "cross":
        return WORDS["stack_cross"][lang == "ko"]
    if trace.model is None or trace.model.architecture not in ENCODER_DECODERS:
        return ""
    return WORDS["stack_decoder" if trace.causal else "stack_encoder"][lang == "ko"]
