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

# --- words only the figures of the views use (render/figure.py) ---------------------------------

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
