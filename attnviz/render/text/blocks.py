"""The block and flow views, and a checkpoint's block."""

from . import CAPTIONS, TITLES, WORDS

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
