"""Words shown to people, in English and Korean: stage titles, captions, axis labels.

Stage names follow the seed documents (0단계 쿼리·키·밸류 추출 … 4단계 어텐션 가중합).
"""

from __future__ import annotations

import os

LANGS = ("en", "ko")


def default_lang(environ: dict[str, str] | None = None) -> str:
    """Korean when LC_ALL / LC_MESSAGES / LANG (first one set) starts with `ko`, else English."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


# stage key → (English, Korean)
TITLES: dict[str, tuple[str, str]] = {
    "input": ("Input", "입력 프롬프트"),
    "tokens": ("Tokens", "토큰"),
    "embeddings": ("Token embeddings E", "토큰 임베딩 E"),
    "positions": ("Positional encoding P", "위치 인코딩 P"),
    "x": ("Input X = E + P", "입력 X = E + P"),
    "qkv": ("Step 0 · Query, Key, Value", "0단계 · 쿼리·키·밸류 추출"),
    "q": ("Queries Q = X·W_Q", "쿼리 Q = X·W_Q"),
    "k": ("Keys K = X·W_K", "키 K = X·W_K"),
    "v": ("Values V = X·W_V", "밸류 V = X·W_V"),
    "scores": ("Step 1 · Scores Q·Kᵀ", "1단계 · 쿼리–키 내적 Q·Kᵀ"),
    "scaled": ("Step 2 · Scaled Q·Kᵀ / √d_k", "2단계 · 스케일링 Q·Kᵀ / √d_k"),
    "masked": ("Masked scores", "마스킹된 스코어"),
    "softmax": ("Step 3 · Softmax", "3단계 · 소프트맥스 정규화"),
    "output": ("Step 4 · Weighted sum softmax·V", "4단계 · 어텐션 가중합 softmax·V"),
    "projected": ("Output = concat·W_O", "출력 = concat·W_O"),
    "next": ("Passed to the next layer", "다음 레이어로 전달"),
    "pipeline": ("Self-attention, stage by stage", "셀프 어텐션, 단계별로"),
    "layers": ("Every layer and head", "모든 레이어와 헤드"),
}

# stage key → (English, Korean): one line under the title saying what the stage does
CAPTIONS: dict[str, tuple[str, str]] = {
    "input": ("The sentence self-attention will read.", "셀프 어텐션이 읽을 문장입니다."),
    "tokens": ("The tokenizer cuts the text into tokens; each gets an id.",
               "토크나이저가 문장을 토큰으로 나누고, 각 토큰에 번호(id)를 붙입니다."),
    "embeddings": ("Each token looks up its own vector: one row per token, d_model numbers.",
                   "각 토큰이 자기 벡터를 찾아옵니다: 토큰마다 한 행, d_model개의 숫자."),
    "positions": ("A fixed sine/cosine pattern that tells the model where each token sits.",
                  "각 토큰이 몇 번째 자리인지 알려 주는 고정된 사인·코사인 패턴입니다."),
    "q": ("Each token's query: what it is looking for (the search request).",
          "각 토큰의 쿼리: 무엇을 찾고 있는지(검색 요청)."),
    "k": ("Each token's key: the tag other tokens' queries are matched against.",
          "각 토큰의 키: 다른 토큰의 쿼리와 맞춰 볼 주제 태그."),
    "v": ("Each token's value: the content that is passed on when it is attended to.",
          "각 토큰의 밸류: 집중을 받을 때 전달되는 실제 내용."),
    "x": ("Each token's vector E plus its position's vector P.",
          "각 토큰의 임베딩 E에 위치 벡터 P를 더합니다."),
    "qkv": ("Q = what this token is looking for (the search request), K = the tags on the shelves, "
            "V = the books' content.",
            "Q = 찾고 싶은 것(검색 요청), K = 책장에 붙은 주제 태그, V = 책의 실제 내용."),
    "scores": ("How well each query matches each key: the dot product Qi · Kj.",
               "각 쿼리가 각 키와 얼마나 맞는지: 내적 Qi · Kj."),
    "scaled": ("Divided by √d_k so that large widths do not saturate the softmax.",
               "차원이 커도 소프트맥스가 한쪽으로 쏠리지 않도록 √d_k로 나눕니다."),
    "masked": ("Hidden keys get −∞, so softmax gives them exactly 0.",
               "가려진 키는 −∞가 되어 소프트맥스 값이 정확히 0이 됩니다."),
    "softmax": ("Each row becomes a probability distribution: how much each query attends to each key.",
                "각 행이 확률 분포가 됩니다: 각 쿼리가 각 키에 얼마나 집중하는지."),
    "output": ("Each token's new vector: the values mixed by its attention weights.",
               "각 토큰의 새 벡터: 어텐션 가중치로 밸류를 섞은 결과입니다."),
    "projected": ("The heads' outputs side by side, projected back to d_model by W_O.",
                  "헤드 출력을 이어 붙이고 W_O로 d_model 차원으로 되돌립니다."),
    "next": ("With a residual connection and layer norm, this goes on to the feed-forward network "
             "and the next layer.",
             "잔차 연결과 레이어 정규화를 거쳐 피드포워드 네트워크와 다음 레이어로 전달됩니다."),
}

# short words used inside tables and figures
WORDS: dict[str, tuple[str, str]] = {
    "query": ("query", "쿼리"),
    "key": ("key", "키"),
    "queries": ("queries (rows)", "쿼리 (행)"),
    "keys": ("keys (columns)", "키 (열)"),
    "token": ("token", "토큰"),
    "dims": ("dimensions", "차원"),
    "row_sum": ("row sum", "행 합"),
    "most": ("most attended", "가장 집중"),
    "focus": ("Focus on", "기준 쿼리"),
    "context": ("context", "문맥 벡터"),
    "ctx_largest": ("the {n} largest weights first", "가중치가 큰 {n}개부터"),
    "ctx_rest": ("+ {n} more terms, their weights summing to {rest} (--full shows all)",
                 "+ 나머지 항 {n}개, 가중치 합 {rest} (--full 로 전체 보기)"),
    "entropy": ("entropy", "엔트로피"),
    "weight": ("weight", "가중치"),
    "cut": ("Showing {rows} of {n_rows} rows, {cols} of {n_cols} columns: "
            "use --full, or a figure (--png FILE), to see all.",
            "행 {n_rows}개 중 {rows}개, 열 {n_cols}개 중 {cols}개만 보입니다: "
            "전체는 --full 또는 그림(--png FILE)으로 보세요."),
    "head_of": ("head {head} of {heads}", "헤드 {head}/{heads}"),
    "token_rows": ("tokens (rows)", "토큰 (행)"),
    "key_rows": ("keys (rows)", "키 (행)"),
    "dim_cols": ("dimensions (columns)", "차원 (열)"),
    "hidden": ("grey = hidden by the mask", "회색 = 마스크로 가려짐"),
    "rows_sum": ("each row sums to 1", "각 행의 합 = 1"),
    "n_tokens": ("{n} tokens", "토큰 {n}개"),
    "causal_mask": ("causal mask", "인과 마스크"),
    "weights_from": ("weights: {source}", "가중치: {source}"),
    "every_nth": ("one label in {n} shown", "라벨은 {n}개마다 하나씩 표시"),
    "op_scale": ("÷ √d_k", "÷ √d_k"),
    "op_softmax": ("softmax per row", "행마다 소프트맥스"),
    "op_mask_softmax": ("mask + softmax per row", "마스크 + 행마다 소프트맥스"),
    "op_v": ("· V", "· V"),
    "summary": ("Every query: its most attended key, that weight, the row's entropy (nats)",
                "쿼리마다: 가장 집중한 키, 그 가중치, 행의 엔트로피 (nats)"),
    "more": ("… {n} more (--full shows all)", "… {n}개 더 (--full 로 전체 보기)"),
}


def title(stage: str, lang: str) -> str:
    return TITLES[stage][lang == "ko"]


def caption(stage: str, lang: str) -> str:
    return CAPTIONS[stage][lang == "ko"]


def word(key: str, lang: str) -> str:
    return WORDS[key][lang == "ko"]


# --- the mask, heads, split, cross, scale and softmax views ------------------------------------

TITLES.update({
    "mask_none": ("Encoder · no mask", "인코더 · 마스크 없음"),
    "mask_causal": ("Decoder · look-ahead mask", "디코더 · Look-Ahead 마스크"),
    "mask_padding": ("Padding mask", "패딩 마스크"),
    "mask_both": ("Look-ahead + padding mask", "Look-Ahead + 패딩 마스크"),
    "mask_softmax": ("Softmax with the mask", "마스크를 적용한 소프트맥스"),
    "mask_why": ("What the mask is for", "마스크는 왜 쓰나"),
    "heads": ("Self-Attention × {h} heads", "Self-Attention × {h}개 헤드"),
    "concat": ("Concat", "Concat · 헤드 출력 결합"),
    "split": ("Two ways to split heads", "헤드를 나누는 두 가지 방법"),
    "split_diff": ("Merged vs separate", "병합 vs 분리"),
    "encoder_output": ("Encoder output", "인코더 출력"),
    "kv": ("Key / Value", "Key / Value 생성"),
    "decoder_input": ("Decoder input", "디코더 입력"),
    "image_input": ("Image input", "이미지 입력"),
    "vision": ("Vision encoder", "비전 인코더"),
    "image_kv": ("Image tokens → Key/Value", "이미지 토큰 → Key/Value"),
    "patch_grid": ("Attention on the image", "이미지 위의 어텐션"),
    "cross_vs_self": ("Self- vs cross-attention", "Self-Attention vs Cross-Attention"),
    "scale": ("Why divide by √d_k", "왜 √d_k로 나누나"),
    "softmax_steps": ("Softmax, step by step", "소프트맥스, 한 단계씩"),
})

CAPTIONS.update({
    "mask_grid": ("Rows are queries, columns keys: each query may attend only where its row has a circle.",
                  "행은 쿼리, 열은 키: 각 쿼리는 자기 행에 동그라미가 있는 키만 볼 수 있습니다."),
    "mask_none": ("An encoder sees the whole sentence: every query attends to every key (look-around).",
                  "인코더는 문장 전체를 봅니다: 모든 쿼리가 모든 키를 봅니다 (Look-around)."),
    "mask_softmax": ("Hidden keys get exactly 0; each row's visible keys still sum to 1.",
                     "가려진 키는 정확히 0이 되고, 각 행의 보이는 키만으로 합이 1이 됩니다."),
    "mask_causal": ("A decoder may look only at its own token and those before it: while training on "
                    "next-token prediction the whole answer is already in the input, so the mask hides "
                    "the future tokens the model must predict.",
                    "디코더는 자기 토큰과 그 앞의 토큰만 볼 수 있습니다: 다음 토큰 예측(CLM)으로 훈련할 때는 "
                    "정답 문장이 이미 입력에 있으므로, 예측해야 할 미래 토큰을 마스크로 가립니다."),
    "mask_padding": ("[PAD] tokens only fill a batch up to one length: [PAD] keys are hidden so padding "
                     "never gets attention, and a [PAD] query sees nothing (its row is all 0).",
                     "[PAD] 토큰은 배치의 길이를 맞추려고 채운 것입니다: [PAD] 키를 가려 패딩이 어텐션을 "
                     "받지 않게 하고, [PAD] 쿼리는 아무것도 보지 않습니다 (행 전체가 0)."),
    "heads": ("Each head projects with its own W_Q_i, W_K_i, W_V_i, so each spreads its attention "
              "differently; the roles (grammar, position, meaning …) are learned, not assigned.",
              "각 헤드는 자기만의 W_Q_i, W_K_i, W_V_i로 투영하므로 어텐션을 다르게 나눕니다. "
              "역할(문법, 위치, 의미 …)은 정해 주는 것이 아니라 학습으로 나뉩니다."),
    "concat": ("The heads' outputs softmax·V, side by side.",
               "각 헤드의 출력 softmax·V를 옆으로 이어 붙입니다."),
    "split_merged": ("Merged: one matrix W_Q of d_model × (h·d_k); Q = X·W_Q is reshaped into (h, d_k).",
                     "병합 방식: d_model × (h·d_k) 크기의 W_Q 하나로 한 번에 곱한 뒤 (h, d_k)로 리쉐이프합니다."),
    "split_separate": ("Separate: each head has its own W_Q_i of d_model × d_k and projects on its own.",
                       "분리 방식: 헤드마다 d_model × d_k 크기의 W_Q_i를 따로 두고 독립적으로 투영합니다."),
    "split_same": ("W_Q_i is exactly columns i·d_k … (i+1)·d_k − 1 of the merged W_Q, so both ways give the "
                   "same numbers; merged is one big matrix product, which GPUs prefer.",
                   "W_Q_i는 병합된 W_Q의 i·d_k … (i+1)·d_k − 1번째 열과 같으므로 두 방식의 결과는 같습니다. "
                   "병합 방식은 큰 행렬곱 한 번이라 GPU에서 더 빠릅니다."),
    "split_equal": ("Equal up to float rounding.", "부동소수점 반올림 오차 범위에서 같습니다."),
    "encoder_output": ("What the decoder reads: the encoder's output for the source sentence.",
                       "디코더가 참고할 것: 원문 문장에 대한 인코더의 출력입니다."),
    "kv": ("Keys and values come from the encoder side.", "Key와 Value는 인코더 쪽에서 만듭니다."),
    "decoder_input": ("Queries come from the decoder side: <BOS> asks what to say first.",
                      "Query는 디코더 쪽에서 만듭니다: <BOS>는 첫 단어로 무엇을 말할지 묻습니다."),
    "vision": ("The image was cut into {rows} × {cols} patches (patch_1 top-left, row by row); each patch "
               "was embedded by a seeded linear map plus its position (ViT-style).",
               "이미지를 {rows} × {cols}개 패치로 잘랐습니다 (patch_1은 왼쪽 위, 행 순서). 각 패치는 "
               "시드로 만든 선형 변환에 위치 벡터를 더해 임베딩했습니다 (ViT 방식)."),
    "patch_grid": ("Each cell is Q{q}'s weight on that patch, laid out where the patch sits in the image.",
                   "각 칸은 그 패치에 대한 Q{q}의 가중치이며, 패치가 이미지에 있던 자리에 놓았습니다."),
    "multimodal": ("Multimodal: the image patches give K and V, the text decoder gives Q.",
                   "멀티모달: 이미지 패치가 K와 V를, 텍스트 디코더가 Q를 만듭니다."),
    "scale": ("Without √d_k the spread of q·k grows like √d_k: softmax squeezes into one key (largest "
              "weight → 1, entropy → 0) and its gradients vanish. Dividing by √d_k keeps the spread "
              "near 1 at every width.",
              "√d_k로 나누지 않으면 q·k의 퍼짐이 √d_k처럼 커져서 소프트맥스가 키 하나로 쏠리고 "
              "(최대 가중치 → 1, 엔트로피 → 0) 그래디언트가 사라집니다. √d_k로 나누면 어떤 차원에서도 "
              "퍼짐이 1 근처로 유지됩니다."),
    "softmax_steps": ("softmax(x)_j = exp(x_j − max x) / Σ exp(x_i − max x): subtracting the max "
                      "changes nothing but keeps exp from overflowing.",
                      "softmax(x)_j = exp(x_j − max x) / Σ exp(x_i − max x): 최댓값을 빼도 결과는 같고, "
                      "exp가 넘치지 않게 해 줍니다."),
})

WORDS.update({
    "may_attend": ("○ may attend · × hidden", "○ 볼 수 있음 · × 가려짐"),
    "all_hidden": ("— every key hidden: weights all 0", "— 모든 키가 가려짐: 가중치 모두 0"),
    "masked_out": ("→ {keys} are masked out", "→ {keys}는 마스킹되어 유사도 계산에서 제외됨"),
    "focus_scaled": ("Q{q} = {label}: Q · K ÷ √d_k", "Q{q} = {label}: Q · K ÷ √d_k"),
    "most_per_head": ("Q{q} = {label}, most attended key per head:", "Q{q} = {label}, 헤드별로 가장 집중한 키:"),
    "concat_cols": ("columns {a}–{b} ← Head {h}", "열 {a}–{b} ← Head {h}"),
    "concat_col": ("column {a} ← Head {h}", "열 {a} ← Head {h}"),
    "linear": ("Linear · W_O", "Linear · 선형 변환 W_O"),
    "max_diff": ("max |Δ|", "최대 |Δ|"),
    "weights_diff": ("weights", "가중치"),
    "output_diff": ("output", "출력"),
    "concat_row": ("concat", "concat"),
    "final_row": ("concat·W_O", "concat·W_O"),
    "scale_setup": ("{rows} queries × {keys} keys per d_k, q and k ~ N(0, I), seed {seed}.",
                    "d_k마다 쿼리 {rows}개 × 키 {keys}개, q, k ~ N(0, I), 시드 {seed}."),
    "scale_legend": ("std = standard deviation; max w = mean largest softmax weight; H = mean entropy in "
                     "nats (at most log n = log {n} = {log_n}).",
                     "std = 표준편차; max w = 행의 최대 소프트맥스 가중치 평균; H = 평균 엔트로피 (nats, "
                     "최대 log n = log {n} = {log_n})."),
    "largest": ("largest", "최대"),
    "row_n": ("row {n}", "{n}행"),
    "col_n": ("col {n}", "{n}열"),
    "n_patches": ("{rows} × {cols} = {n} patches", "{rows} × {cols} = 패치 {n}개"),
    "sum_exp": ("Σ exp = {total}: each probability is its exp ÷ {total}.",
                "Σ exp = {total}: 각 확률은 자기 exp ÷ {total}입니다."),
    "vision_steps": ("• cut the image into {rows} × {cols} = {n} patches, each one token\n"
                     "• embed each patch into d_model = {d} numbers: the patch sequence",
                     "• 이미지를 {rows} × {cols} = {n}개 패치(토큰)로 분할\n"
                     "• 각 패치를 d_model = {d}개의 숫자로 임베딩하여 시퀀스 생성"),
    "divisor": ("Divided first by scale × temperature = {scale} × {temp} = {div}: a larger divisor flattens "
                "the distribution, a smaller one sharpens it.",
                "먼저 scale × temperature = {scale} × {temp} = {div}로 나눴습니다: 크게 나눌수록 분포가 "
                "평평해지고, 작게 나눌수록 뾰족해집니다."),
    "seed_compare": ("The seed's {seed} are illustrative; softmax of these scores really gives {real} "
                     "(the largest score always gets the largest weight).",
                     "시드 문서의 {seed}는 설명용 숫자이고, 이 스코어의 실제 소프트맥스는 {real}입니다 "
                     "(가장 큰 스코어가 언제나 가장 큰 가중치를 받습니다)."),
})

# --- words only the figures of the views use (render/figure/) ------------------------------------

WORDS.update({
    "fig_masking": ("Masking", "마스킹"),
    "fig_mask": ("Mask", "마스크"),
    "fig_softmax": ("Softmax", "소프트맥스"),
    "fig_rows_sum_empty": ("each row sums to 1; a row that sees nothing is all 0",
                           "각 행의 합 = 1; 아무것도 못 보는 행은 모두 0"),
    "fig_no_keys": ("{token} sees no key: all 0", "{token}: 볼 키 없음 → 모두 0"),
    "fig_focus_row": ("outlined row: query “{token}”", "테두리 친 행: 쿼리 “{token}”"),
    "fig_cross": ("Cross-attention", "크로스 어텐션"),
    "fig_dec_queries": ("decoder queries (rows)", "디코더 쿼리 (행)"),
    "fig_enc_keys": ("encoder keys (columns)", "인코더 키 (열)"),
    "fig_patch_keys": ("image patches (columns)", "이미지 패치 (열)"),
    "fig_qkv_from": ("Q from the decoder, K and V from the encoder", "Q는 디코더에서, K·V는 인코더에서"),
    "fig_looks": ("Where “{token}” looks", "“{token}” 쿼리가 보는 곳"),
    "fig_overlay": ("colour: 0 … the largest weight ({top})", "색: 0 … 최대 가중치 ({top})"),
    "fig_spread": ("Spread of q·k", "q·k의 퍼짐"),
    "fig_std": ("standard deviation", "표준편차"),
    "fig_dk_log": ("d_k (log₂ scale)", "d_k (로그₂ 눈금)"),
    "fig_dot_std": ("std of q·k", "q·k의 표준편차"),
    "fig_scaled_std": ("std of q·k / √d_k", "q·k / √d_k의 표준편차"),
    "fig_saturates": ("Without ÷ √d_k, softmax saturates", "√d_k로 나누지 않으면 소프트맥스가 포화"),
    "fig_max_weight": ("mean largest weight", "최대 가중치 (평균)"),
    "fig_entropy": ("entropy (nats)", "엔트로피 (nats)"),
    "fig_raw": ("without scaling", "나누지 않음"),
    "fig_scaled": ("with ÷ √d_k", "√d_k로 나눔"),
    "fig_uniform_w": ("1/n (uniform)", "1/n (균등 분포)"),
    "fig_uniform_h": ("log n (uniform)", "log n (균등 분포)"),
    "fig_scores": ("Scores", "스코어"),
    "fig_probs": ("Probabilities (sum = 1)", "확률 (합 = 1)"),
    "fig_entry": ("entry", "항목"),
    "fig_score": ("score", "스코어"),
    "fig_prob": ("probability", "확률"),
})

# table key → (English rows, Korean rows); the first row is the header
TABLES: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]] = {
    "mask_models": (
        (("Model", "Training", "Inference", "What is hidden"),
         ("BERT", "no look-ahead mask", "no look-ahead mask",
          "MLM: some input tokens are replaced by [MASK]; attends both ways"),
         ("GPT", "causal mask", "causal mask",
          "causal masking: every later token, one direction")),
        (("모델", "훈련", "추론", "가리는 것"),
         ("BERT", "Look-ahead 마스크 없음", "Look-ahead 마스크 없음", "MLM: 일부 입력 토큰을 [MASK]로 가림, 양방향"),
         ("GPT", "인과 마스크 사용", "인과 마스크 사용", "Causal Masking: 이후 토큰 가림, 단방향")),
    ),
    "encoder_decoder": (
        (("", "Encoder", "Decoder"),
         ("Self-attention", "every pair of tokens", "past tokens only"),
         ("Range", "the whole sentence (look-around)", "left side only (look-ahead mask)"),
         ("Masking", "none: every token visible", "yes: future tokens hidden"),
         ("Purpose", "understand the input's context", "keep the context while generating")),
        (("구분", "인코더", "디코더"),
         ("Self-Attention", "모든 토큰 간 관계 계산", "과거 토큰까지만 사용"),
         ("어텐션 범위", "전체 문장 (Look-around)", "왼쪽만 (Look-ahead) ← 마스킹"),
         ("Masking", "없음 (전체 토큰 볼 수 있음)", "있음 (미래 토큰 가림)"),
         ("목적", "입력 문장의 문맥 파악", "응답 생성 중 문맥 유지")),
    ),
    "cross_vs_self": (
        (("", "Self-Attention", "Cross-Attention"),
         ("Used in", "encoder and decoder", "decoder (linked to the encoder)"),
         ("Query (Q) from", "the same sequence", "the decoder's input"),
         ("Key / Value from", "the same sequence", "the encoder's output"),
         ("Purpose", "relations within the input", "look up what is needed in the source"),
         ("Example", '"고양이", "는", "침대" → with each other', 'decoder "<BOS>", encoder "고양이", "잔다"'),
         ("Q attends to", "its own sequence, itself included", "another sequence (the encoder's output)")),
        (("항목", "Self-Attention", "Cross-Attention"),
         ("사용 위치", "인코더, 디코더 내부", "디코더 내부 (인코더와 연결할 때)"),
         ("Query (Q)", "같은 시퀀스에서 생성", "디코더의 입력에서 생성"),
         ("Key / Value (K/V)", "같은 시퀀스에서 생성", "인코더의 출력에서 생성"),
         ("주요 목적", "입력 내에서 문맥 관계 파악", "입력 문장에서 필요한 정보 참조"),
         ("입력 예시", '"고양이", "는", "침대" 등 → 서로 간 관계', '디코더: "<BOS>", 인코더: "고양이", "잔다" 등'),
         ("Q가 주목하는 대상", "자기 자신을 포함한 동일 시퀀스 내의 토큰들", "다른 시퀀스(인코더 출력)의 토큰들")),
    ),
    "split_ways": (
        (("Way", "Weights", "Q for all heads"),
         ("merged", "W_Q: {d_model} × {hd}", "X·W_Q: {t} × {hd} → ({t}, {h}, {d_k}) → ({h}, {t}, {d_k})"),
         ("separate", "{h} × W_Q_i: {d_model} × {d_k}", "{h} × X·W_Q_i: {t} × {d_k} → ({h}, {t}, {d_k})")),
        (("방식", "가중치", "모든 헤드의 Q"),
         ("병합", "W_Q: {d_model} × {hd}", "X·W_Q: {t} × {hd} → ({t}, {h}, {d_k}) → ({h}, {t}, {d_k})"),
         ("분리", "{h} × W_Q_i: {d_model} × {d_k}", "{h} × X·W_Q_i: {t} × {d_k} → ({h}, {t}, {d_k})")),
    ),
}


def table_rows(key: str, lang: str) -> tuple[tuple[str, ...], ...]:
    """A small comparison table's rows (header first) in `lang`."""
    return TABLES[key][lang == "ko"]


# --- the block and flow views (issue 7) ----------------------------------------------------------

TITLES.update({
    "block_encoder": ("Encoder block", "인코더 블록"),
    "block_decoder": ("Decoder block", "디코더 블록"),
    "blk_attn": ("{n} Multi-head self-attention", "{n} Multi-Head Self-Attention"),
    "blk_masked": ("{n} Masked multi-head self-attention", "{n} Masked Multi-Head Self-Attention"),
    "blk_cross": ("{n} Cross-attention", "{n} Cross-Attention"),
    "blk_residual": ("{n} Residual: x + {f}(x)", "{n} 잔차 연결(Residual): x + {f}(x)"),
    "blk_norm": ("{n} LayerNorm", "{n} 레이어 정규화(LayerNorm)"),
    "blk_ffn": ("{n} Feed-forward network (FFN)", "{n} 피드포워드 네트워크(FFN)"),
    "blk_output": ("Block output", "블록 출력"),
    "flow_input": ("Input prompt", "입력 프롬프트"),
    "flow_tokenizer": ("Tokenizer", "토크나이저"),
    "flow_transformer": ("Transformer", "트랜스포머(Transformer)"),
    "flow_embeddings": ("Embeddings", "임베딩"),
    "flow_positions": ("Positional encoding", "포지셔널 인코딩"),
    "flow_encoders": ("Encoder blocks × {n}", "인코더 블록들 × {n}"),
    "flow_decoder_input": ("Decoder input", "디코더 입력"),
    "flow_decoders": ("Decoder blocks × {n}", "디코더 블록들 × {n}"),
    "flow_logits": ("Logits", "로짓 벡터"),
    "flow_softmax": ("Softmax", "Softmax"),
    "flow_sampling": ("Sampling", "샘플링"),
    "flow_detokenize": ("Detokenizing", "디토크나이징"),
    "flow_shapes": ("Shapes at every arrow", "화살표마다의 모양(shape)"),
})

CAPTIONS.update({
    "blk_attn": ("Each token gathers context from the others (every stage: attnviz explain); the heads' "
                 "outputs, joined and multiplied by W_O, give Attn(x), as wide as x.",
                 "각 토큰이 다른 토큰에서 문맥을 모읍니다 (단계별 계산은 attnviz explain). 헤드 출력을 이어 붙여 "
                 "W_O를 곱한 Attn(x)는 x와 같은 크기입니다."),
    "blk_masked": ("The decoder's own tokens, under the look-ahead mask: each sees itself and the tokens "
                   "before it (0 = hidden).",
                   "디코더 자신의 토큰에 Look-ahead 마스크를 씌웁니다: 각 토큰은 자기와 앞의 토큰만 봅니다 "
                   "(0 = 가려짐)."),
    "blk_cross": ("Q comes from the decoder (the LayerNorm above), K and V from the encoder's output: rows "
                  "are decoder tokens, columns source tokens.",
                  "Q는 디코더(바로 위 LayerNorm의 출력)에서, K와 V는 인코더 출력에서 만듭니다: 행은 디코더 "
                  "토큰, 열은 원문 토큰입니다."),
    "blk_residual": ("The sublayer's output is added to its input, so the original information is kept "
                     "(and deep stacks still train).",
                     "서브레이어의 결과에 입력을 그대로 더해 원래 정보를 유지합니다 (깊은 신경망도 학습이 "
                     "잘 되게 하는 기법)."),
    "blk_norm": ("Each token's vector (row) is rescaled on its own: LN(x) = (x − μ) / √(σ² + ε) · γ + β, "
                 "so every row ends with mean ≈ 0 and variance ≈ 1.",
                 "토큰 벡터(행)마다 따로 정규화합니다: LN(x) = (x − μ) / √(σ² + ε) · γ + β. 그래서 모든 행의 "
                 "평균 ≈ 0, 분산 ≈ 1이 됩니다."),
    "blk_ffn": ("A small network applied to each token on its own: FFN(x) = act(x·W₁ + b₁)·W₂ + b₂. It "
                "refines the meaning the attention gathered.",
                "각 토큰 벡터에 따로 적용되는 작은 신경망: FFN(x) = act(x·W₁ + b₁)·W₂ + b₂. 어텐션이 모은 "
                "문맥 정보를 정제합니다."),
    "blk_output_encoder": ("The next encoder block's input; after the last one, the encoder's output: the "
                           "decoder's Keys and Values.",
                           "다음 인코더 블록의 입력이 되고, 마지막 블록 뒤에는 인코더 출력, 즉 디코더의 "
                           "Key와 Value가 됩니다."),
    "blk_output_decoder": ("The next decoder block's input; after the last one, the last token's row "
                           "becomes the logits over the vocabulary.",
                           "다음 디코더 블록의 입력이 되고, 마지막 블록 뒤에는 마지막 토큰의 행이 어휘 "
                           "집합에 대한 로짓이 됩니다."),
    "untrained": ("This model is untrained (random seeded weights), so the text it writes is nonsense: "
                  "what it shows is how shapes and numbers flow.",
                  "이 모델은 학습되지 않았습니다(시드로 만든 무작위 가중치). 그래서 생성된 문장은 의미가 "
                  "없습니다: 보여 주려는 것은 모양(shape)과 숫자가 흐르는 과정입니다."),
    "flow_embeddings": ("Token id → vector (first numbers shown).", "토큰 ID → 벡터 변환 (앞쪽 숫자만 표시)."),
    "flow_positions": ("Adds each position's vector: E + P.", "단어 순서 정보 추가 → 임베딩 + 위치 벡터."),
    "flow_encoders": ("Each layer repeats:", "각 층에서 다음 연산 반복:"),
    "flow_memory": ("⬇ Encoder output (Key/Value) {shape}", "⬇ 인코더 출력 (Key/Value) {shape}"),
    "flow_decoder_input": ("Q1 → \"<BOS>\"; each step appends the token it picked and reruns the decoder.",
                           "Q1 → \"<BOS>\"; 단계마다 고른 토큰을 붙여 디코더를 다시 실행합니다."),
    "flow_decoders": ("Each layer repeats:", "각 층마다 다음 연산 반복됨:"),
    "flow_logits": ("A score for every word of the vocabulary: the last token's vector · W_out.",
                    "어휘 집합의 각 단어에 대한 '점수': 마지막 토큰의 벡터 · W_out."),
    "flow_softmax": ("Softmax(logits / temperature) gives a probability distribution.",
                     "Softmax(로짓 / temperature)로 확률 분포를 만듭니다."),
    "flow_detokenize": ("Token ids → text.", "토큰 ID → 문자로 변환."),
})

WORDS.update({
    "ln_cols": ("μ\nbefore|σ²\nbefore|μ\nafter|σ²\nafter", "μ\n전|σ²\n전|μ\n후|σ²\n후"),
    "ln_focus": ("{label}: μ = {mean}, σ² = {var}, ε = {eps} → μ = {mean2}, σ² = {var2}",
                 "{label}: μ = {mean}, σ² = {var}, ε = {eps} → μ = {mean2}, σ² = {var2}"),
    "gamma_beta": ("γ = 1 and β = 0 (the initial values), so LN(x) is just the standardised x.",
                   "γ = 1, β = 0 (초기값)이므로 LN(x)는 표준화된 x 그대로입니다."),
    "gamma_beta_set": ("γ and β are learned per dimension.", "γ와 β는 차원마다 학습되는 값입니다."),
    "ffn_shapes": ("{t} × {d} → {t} × {f} → {act} → {t} × {d}", "{t} × {d} → {t} × {f} → {act} → {t} × {d}"),
    "gelu_focus": ("{label}: GELU(h) ≈ h for large h, ≈ 0 for very negative h:",
                   "{label}: GELU(h)는 큰 h에서 ≈ h, 아주 음수인 h에서 ≈ 0:"),
    "relu_focus": ("{label}: ReLU sets {n} of {f} hidden units to 0:", "{label}: ReLU가 은닉 {f}개 중 {n}개를 0으로:"),
    "memory_kv": ("memory = the encoder's output (K/V)", "memory = 인코더 출력 (K/V)"),
    "block_steps_encoder": ("① Multi-head self-attention\n② Residual + LayerNorm\n③ Feed-forward network (FFN)\n"
                            "④ Residual + LayerNorm",
                            "① Multi-Head Self-Attention\n② Residual + LayerNorm\n③ Feed Forward Network (FFN)\n"
                            "④ Residual + LayerNorm"),
    "block_steps_decoder": ("① Masked multi-head self-attention\n② Residual + LayerNorm\n③ Cross-attention\n"
                            "④ Residual + LayerNorm\n⑤ Feed-forward network (FFN)\n⑥ Residual + LayerNorm",
                            "① Masked Multi-Head Self-Attention\n② Residual + LayerNorm\n③ Cross-Attention\n"
                            "④ Residual + LayerNorm\n⑤ Feed Forward Network (FFN)\n⑥ Residual + LayerNorm"),
    "block_dims": ("d_model = {d}, d_ff = {f}, heads = {h}, {act}, post-LN, ε = {eps}",
                   "d_model = {d}, d_ff = {f}, 헤드 {h}개, {act}, Post-LN, ε = {eps}"),
    "decoder_tokens": ("decoder input: <BOS> + the text", "디코더 입력: <BOS> + 문장"),
    "layer_shape": ("layer {i}: {a} → {b}", "{i}층: {a} → {b}"),
    "cross_last": ("Cross-attention at step {s}, decoder block {n}:",
                   "{s}단계, 디코더 블록 {n}의 크로스 어텐션:"),
    "vocab": ("{v} pieces: the tokenizer's first {v} ordinary pieces of {total} (special tokens and byte "
              "pieces left out)",
              "어휘 {v}개: 토크나이저의 전체 {total}개 중 앞쪽의 일반 토큰 {v}개 (특수 토큰, 바이트 토큰 제외)"),
    "uniform": ("uniform would be {p} each", "균등 분포라면 각각 {p}"),
    "sampler_greedy": ("greedy: always the most probable token (no randomness)",
                       "greedy: 언제나 확률이 가장 높은 토큰 (무작위 없음)"),
    "sampler_top-k": ("top-k, k = {k}: draw from the {k} most probable, renormalised",
                      "top-k, k = {k}: 확률 상위 {k}개 안에서 다시 정규화해 뽑기"),
    "sampler_top-p": ("top-p, p = {p}: draw from the fewest most probable tokens holding ≥ {p}",
                      "top-p, p = {p}: 확률 합이 {p} 이상이 되는 최소한의 상위 토큰 안에서 뽑기"),
    "temperature": ("temperature {t}, seed {seed}", "temperature {t}, 시드 {seed}"),
    "step_input": ("Step {s} · decoder input: {tokens}", "{s}단계 · 디코더 입력: {tokens}"),
    "picked": ("← picked", "← 선택"),
    "picked_line": ("picked “{label}” (id {id}, p = {p})", "“{label}” 선택 (id {id}, p = {p})"),
    "pool": ("{n} candidates holding {mass}", "후보 {n}개, 확률 합 {mass}"),
    "steps_cut": ("steps {a}–{b} not shown: use --full", "{a}–{b}단계 생략: 전체는 --full"),
    "rank_cols": ("#|token|id|logit|p", "#|토큰|id|로짓|p"),
    "step_n": ("step {s}", "{s}단계"),
    "shapes_same": ("steps {a}–{b}: the same path with T = {a} … {b} decoder tokens (--full shows each)",
                    "{a}–{b}단계: 디코더 토큰 T = {a} … {b}개로 같은 경로 (각각은 --full)"),
})

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

WORDS.update({
    "encoder_block": ("Encoder block", "인코더 블록"),
    "decoder_block": ("Decoder block", "디코더 블록"),
})

# A real checkpoint's layer (attnviz.models.block_trace): its name and layer, pre-LN order, the final LayerNorm.
TITLES.update({
    "block_decoder_only": ("Decoder-only block", "디코더 전용 블록"),
    "block_model": ("{block} · {name} · layer {layer}", "{block} · {name} · {layer}층"),
    "blk_residual_pre": ("{n} Residual: x + {f}(LN(x))", "{n} 잔차 연결(Residual): x + {f}(LN(x))"),
    "blk_final_norm": ("{n} Final LayerNorm", "{n} 최종 레이어 정규화(LayerNorm)"),
})
CAPTIONS.update({
    "blk_pre_attn": ("Pre-LN: Q, K and V are projected from LN(x), the LayerNorm above; the residual below adds "
                     "Attn to x itself, not to LN(x).",
                     "Pre-LN: Q, K, V는 바로 위 LayerNorm의 출력 LN(x)에서 만듭니다. 아래 잔차 연결은 Attn을 "
                     "LN(x)가 아닌 x 자체에 더합니다."),
    "blk_final_norm": ("The model's own LayerNorm after its last block (GPT-2's ln_f): transformers reports the "
                       "last hidden state after it.",
                       "마지막 블록 뒤에 오는 모델 자체의 LayerNorm(GPT-2의 ln_f): transformers의 마지막 은닉 "
                       "상태는 이것을 거친 값입니다."),
    "blk_output_model": ("Layer {layer}'s output, transformers' hidden_states[{next}]: the input of layer {next}.",
                         "{layer}층의 출력, transformers의 hidden_states[{next}]: {next}층의 입력이 됩니다."),
    "blk_output_model_last": ("The last layer's output, transformers' hidden_states[{next}] (the last hidden "
                              "state): what the model's head reads.",
                              "마지막 층의 출력, transformers의 hidden_states[{next}] (마지막 은닉 상태): 모델의 "
                              "헤드가 읽는 값입니다."),
})
WORDS.update({
    "block_dims_pre": ("d_model = {d}, d_ff = {f}, heads = {h}, {act}, pre-LN, ε = {eps}",
                       "d_model = {d}, d_ff = {f}, 헤드 {h}개, {act}, Pre-LN, ε = {eps}"),
    "block_model_line": ("{arch} checkpoint, {n} layers (0–{last})\n"
                         "x = hidden_states[{layer}] → output = hidden_states[{next}] (transformers' numbering)",
                         "{arch} 체크포인트, {n}개 층 (0–{last})\n"
                         "x = hidden_states[{layer}] → 출력 = hidden_states[{next}] (transformers의 번호)"),
    "ln_normed": ("{label}: before γ and β, μ = {mean} and σ² = {var}; then γ and β scale and shift each "
                  "dimension.",
                  "{label}: γ·β 적용 전 μ = {mean}, σ² = {var}; 그다음 γ와 β가 차원마다 곱하고 더합니다."),
})


# --- the head survey, attention rollout and the logit lens ---------------------------------------
TITLES.update({
    "survey": ("Head survey: every layer × head", "헤드 조사: 모든 레이어 × 헤드"),
    "survey_sorted": ("The {n} heads with the highest {score}", "{score} 점수가 가장 높은 헤드 {n}개"),
    "rollout_mix": ("Layer {layer}: attention weights vs value-norm weights",
                    "레이어 {layer}: 어텐션 가중치 대 값-노름 가중치"),
    "rollout": ("Attention rollout R through layer {layer}", "레이어 {layer}까지의 어텐션 롤아웃 R"),
    "lens": ("Logit lens: each layer's top next token", "로짓 렌즈: 레이어마다 가장 유력한 다음 토큰"),
    "lens_focus": ("Q{q} {label}: top tokens layer by layer", "Q{q} {label}: 레이어별 상위 토큰"),
})
CAPTIONS.update({
    "survey": ("Each cell is one head (rows layers from 0, columns heads from 1); darker = higher score. "
               "entropy: nats per row · sink: weight on token 1 · previous: on the token before · self: on "
               "itself · distance: mean |i − j| · induction: on the token after the previous copy "
               "(a random sequence repeated).",
               "칸 하나가 헤드 하나입니다 (행 = 0부터 센 레이어, 열 = 1부터 센 헤드); 진할수록 점수가 높습니다. "
               "entropy: 행의 엔트로피(nats) · sink: 첫 토큰에 준 가중치 · previous: 바로 앞 토큰 · self: 자기 자신 · "
               "distance: 평균 |i − j| · induction: 앞선 같은 토큰의 다음 토큰 (무작위 수열을 두 번 반복)."),
    "rollout_mix": ("M = ½ · mean over heads + ½ · I, rows renormalized. Left: the attention weights A_ij; "
                    "right: ‖A_ij · v_j W_O‖ (Kobayashi et al. 2020): a large weight on a small value moves little.",
                    "M = ½ · 헤드 평균 + ½ · I, 행을 다시 정규화. 왼쪽: 어텐션 가중치 A_ij, 오른쪽: ‖A_ij · v_j W_O‖ "
                    "(Kobayashi 외 2020): 작은 값에 준 큰 가중치는 거의 옮기지 못합니다."),
    "rollout": ("R_l = M_l · R_(l−1), R_0 = I (Abnar & Zuidema 2020): row i is how much each input token "
                "feeds query i's representation; rows sum to 1.",
                "R_l = M_l · R_(l−1), R_0 = I (Abnar & Zuidema 2020): 행 i는 각 입력 토큰이 쿼리 i의 표현에 얼마나 "
                "흘러드는지입니다; 각 행의 합 = 1."),
    "lens": ("softmax(final_norm(h_l) · W_Uᵀ) for each layer's residual stream h_l (layer 0 = embeddings, the "
             "top row = the model's output); a cell's shade is the final prediction's probability, bold = the "
             "final prediction itself.",
             "레이어마다 잔차 흐름 h_l에 softmax(final_norm(h_l) · W_Uᵀ) (레이어 0 = 임베딩, 맨 윗줄 = 모델의 출력); "
             "칸의 색은 최종 예측 토큰의 확률, 굵은 글씨 = 최종 예측과 같은 토큰."),
})
WORDS.update({
    "survey_heads": ("heads", "헤드"),
    "survey_best": ("Highest per score (layer.head value):", "점수별 최고 헤드 (레이어.헤드 값):"),
    "head": ("head", "헤드"),
    "layer": ("layer", "레이어"),
    "mix_attention": ("attention A", "어텐션 A"),
    "mix_value_norm": ("value norm ‖A·v·W_O‖", "값 노름 ‖A·v·W_O‖"),
    "rollout_row": ("Q{q} {label}: where its representation comes from", "Q{q} {label}: 표현이 어디서 오는가"),
    "final_rank": ("rank of final", "최종 토큰 순위"),
    "lens_prob": ("probability of the final prediction", "최종 예측 토큰의 확률"),
    "lens_rank": ("rank of the final prediction (1 = top)", "최종 예측 토큰의 순위 (1 = 1위)"),
    "positions": ("positions", "위치"),
})


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

# --- real images: a ViT's patches, a captioner's cross-attention, rollout on the picture (render/*/vision.py) ---

TITLES.update({
    "vit_input": ("Image → patches (ViT)", "이미지 → 패치 (ViT)"),
    "rollout_image": ("Attention rollout on the image", "이미지 위의 어텐션 롤아웃"),
    "caption_strip": ("Where each word looked", "단어마다 본 곳"),
})
CAPTIONS.update({
    "vision_model": ("The checkpoint's processor resized and normalized the image ({steps}); the model cut it "
                     "into {rows} × {cols} patches of {ph} × {pw} pixels (patch_1 top-left, row by row) and embedded "
                     "each with its patch convolution (stride = patch size) plus its position embedding. [CLS] "
                     "comes first and sits nowhere in the image.",
                     "체크포인트의 전처리기가 이미지를 리사이즈·정규화했고 ({steps}), 모델이 이를 {ph} × {pw} 픽셀 "
                     "패치 {rows} × {cols}개로 잘라 (patch_1은 왼쪽 위, 행 순서) 패치 합성곱(stride = 패치 크기)과 "
                     "위치 임베딩으로 임베딩했습니다. [CLS]는 맨 앞에 오며 이미지의 어느 자리에도 없습니다."),
    "vision_captioner": ("The image's [CLS] + patches, after the model's ViT encoder and its final LayerNorm, give "
                         "K and V; the text decoder's tokens give Q.",
                         "모델의 ViT 인코더와 마지막 LayerNorm을 거친 이미지의 [CLS] + 패치가 K와 V를, 텍스트 "
                         "디코더의 토큰이 Q를 만듭니다."),
    "rollout_image": ("Each cell: how much of the focus token's representation after the last layer comes from "
                      "that patch, through every layer's attention and residual (R = Π (½·mean-heads A + ½·I), "
                      "rows renormalized).",
                      "각 칸: 마지막 레이어 뒤 포커스 토큰의 표현 중 그 패치에서 온 몫 (모든 레이어의 어텐션과 "
                      "잔차를 거쳐: R = Π (½·헤드 평균 A + ½·I), 행 재정규화)."),
})
WORDS.update({
    "cls_weight": ("Q{q}'s weight on [CLS] itself: {w} (not in the grid)", "[CLS]에 대한 Q{q}의 가중치: {w} (격자 밖)"),
    "fig_image_queries": ("queries (rows)", "쿼리 (행)"),
    "fig_image_keys": ("[CLS] + image patches (columns)", "[CLS] + 이미지 패치 (열)"),
    "fig_qkv_image": ("Q, K and V from the same [CLS] + patches", "Q·K·V 모두 같은 [CLS] + 패치에서"),
    "fig_vit": ("ViT self-attention", "ViT 셀프 어텐션"),
    "fig_caption_strip": ("Cross-attention on the image, word by word", "단어별 이미지 크로스 어텐션"),
    "fig_rollout_image": ("Attention rollout", "어텐션 롤아웃"),
    "mean_heads": ("mean over heads", "헤드 평균"),
    "strip_note": ("{model} · layer {layer} · {head} · colour: 0 … each word's largest weight",
                   "{model} · 레이어 {layer} · {head} · 색: 0 … 단어별 최대 가중치"),
})

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
