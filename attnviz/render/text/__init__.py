"""Words shown to people, in English and Korean: stage titles, captions, axis labels.

The pipeline's own words are here; each view's are in a module of this package (views, blocks, flash, survey,
decoders, vision, seq2seq), which adds them to the same three tables when the package is imported.

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

#: Small comparison tables: key → (English rows, Korean rows), header first.
TABLES: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]] = {}


def table_rows(key: str, lang: str) -> tuple[tuple[str, ...], ...]:
    """A small comparison table's rows (header first) in `lang`."""
    return TABLES[key][lang == "ko"]


from . import blocks, decoders, flash, seq2seq, summary, survey, views, vision  # noqa: E402, F401  (each adds its words)
