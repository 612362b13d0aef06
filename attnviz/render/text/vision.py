"""Real images: a ViT's patches, a captioner's cross-attention, rollout on the picture."""

from . import CAPTIONS, TITLES, WORDS

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
