"""The mask, heads, split, cross, scale and softmax views, and the words their figures use."""

from . import CAPTIONS, TABLES, TITLES, WORDS

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
TABLES.update({
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
})
