"""The head survey, attention rollout and the logit lens."""

from . import CAPTIONS, TITLES, WORDS

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
