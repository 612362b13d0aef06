"""Llama-style decoders (Llama, Mistral, Qwen2, Qwen3, Gemma 1/2/3, Phi-3) in numpy against transformers.

The golden values (tests/golden/decoders_golden.npz) and the tiny checkpoints (tests/fixtures/tiny-<family>) are
made by tests/golden/make_decoder_golden.py with torch and transformers (eager attention, float32); these tests
need numpy alone. Each fixture exercises what its family adds: GQA, bf16 weights, tied embeddings, llama3 RoPE
scaling (llama); a sharded save and a sliding window shorter than the texts (mistral); q/k/v biases (qwen2);
q/k norms and a head_dim of its own (qwen3); multi-query attention and the hub's legacy hidden_act "gelu", which
means tanh gelu (gemma); soft-capping, query_pre_attn_scalar, alternating windows and sandwich norms (gemma2);
local/global RoPE bases (gemma3); fused projections, partial rotary and longrope (phi3).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from attnviz import attention
from attnviz.models import block_trace, encode, hidden_states, load_model, logits, model_traces

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden" / "decoders_golden.npz"
FAMILIES = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3")
CASES = ("en", "ko", "mix")
ATT_TOL = 1e-5  # attention probabilities (the bar)
HIDDEN_TOL = 1e-4  # hidden states and each block's output
LOGIT_TOL = 1e-4


@functools.cache
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@functools.cache
def model(family: str):
    return load_model(FIXTURES / f"tiny-{family}")


def text(family: str, case: str) -> str:
    return str(golden()[f"{family}/{case}/text"])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", CASES)
def test_tokens_are_the_tokenizers(family, case):
    ids = [tk.id for tk in encode(model(family), text(family, case))]
    assert ids == golden()[f"{family}/{case}/ids"].tolist()


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", CASES)
def test_attention_equals_transformers_every_layer_and_head(family, case):
    m = model(family)
    want = golden()[f"{family}/{case}/attentions"]  # (L, h, T, T)
    traces = model_traces(m, text(family, case))
    got = np.stack([np.stack([hd.weights for hd in tr.heads]) for tr in traces])
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= ATT_TOL


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", CASES)
def test_hidden_states_equal_transformers(family, case):
    want = golden()[f"{family}/{case}/hidden_states"]  # (L + 1, T, d), the last after the final norm
    got = np.stack(hidden_states(model(family), text(family, case)))
    assert got.shape == want.shape
    scale = max(1.0, float(np.abs(want).max()))
    assert np.abs(got - want).max() <= HIDDEN_TOL * scale


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", CASES)
def test_each_block_output_is_the_next_hidden_state(family, case):
    m, g = model(family), golden()
    hidden = g[f"{family}/{case}/hidden_states"]
    for layer in range(m.n_layers):
        bt = block_trace(m, text(family, case), layer)
        want = g[f"{family}/{case}/last_layer_output"] if layer == m.n_layers - 1 else hidden[layer + 1]
        scale = max(1.0, float(np.abs(want).max()))
        assert np.abs(bt.block_output - want).max() <= HIDDEN_TOL * scale, layer


@pytest.mark.parametrize("family", FAMILIES)
def test_rotated_queries_and_keys_equal_transformers(family):
    m, g = model(family), golden()
    tr = model_traces(m, text(family, "en"), layers=[0])[0]
    q = np.stack([hd.q for hd in tr.heads])  # (h, T, d_k)
    want_q, want_k = g[f"{family}/en/q_rope0"], g[f"{family}/en/k_rope0"]
    assert np.abs(q - want_q).max() <= 1e-5
    group = m.n_heads // want_k.shape[0]
    k = np.stack([tr.heads[j * group].k for j in range(want_k.shape[0])])  # (g, T, d_k)
    assert np.abs(k - want_k).max() <= 1e-5
    if tr.attention is not None and tr.attention.rope is not None:
        assert tr.heads[0].q_unrotated is not None and tr.heads[0].q_unrotated.shape == tr.heads[0].q.shape


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", CASES)
def test_last_logits_equal_transformers(family, case):
    want = golden()[f"{family}/{case}/last_logits"]
    got = logits(model(family), text(family, case))[-1]
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= LOGIT_TOL * max(1.0, float(np.abs(want).max()))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", CASES)
def test_greedy_continuation_equals_transformers_generate(family, case):
    """generate(do_sample=False): each new id is the argmax of the last logits over the text and the ids before it
    (the smallest top-1/top-2 gap among these steps is 2.5e-3, far above the logits' tolerance)."""
    m, g = model(family), golden()
    ids = g[f"{family}/{case}/ids"].tolist()
    want = g[f"{family}/{case}/generated"].tolist()
    for _ in want:
        t = len(ids)
        run = m.arch.forward(m.tensors, np.asarray(ids), attention.causal_mask(t), m.n_layers - 1, finish=True,
                             keep=set())
        ids.append(int(m.arch.checked_logits(m.tensors, run.hidden[-1])[-1].argmax()))  # (vocab,) at position t - 1
    assert ids[len(ids) - len(want):] == want


def test_gqa_heads_share_their_group_keys():
    m = model("llama")
    tr = model_traces(m, text("llama", "en"), layers=[1])[0]
    info = tr.attention
    assert info is not None and info.n_kv_heads == 2 and m.n_heads == 4
    assert [hd.kv_head for hd in tr.heads] == [0, 0, 1, 1]
    np.testing.assert_array_equal(tr.heads[0].k, tr.heads[1].k)
    assert not np.array_equal(tr.heads[1].k, tr.heads[2].k)


def test_sliding_window_hides_old_keys_and_full_layers_do_not():
    m = model("gemma2")
    traces = model_traces(m, text("gemma2", "mix"))
    sliding = [tr for tr in traces if tr.attention.window is not None]
    full = [tr for tr in traces if tr.attention.window is None]
    assert sliding and full
    for tr in sliding:
        w = tr.attention.window
        t = len(tr.query_tokens)
        i, j = np.indices((t, t))
        assert np.all(tr.heads[0].weights[i - j >= w] == 0)
        assert np.all(tr.heads[0].mask == ((j <= i) & (i - j < w)))


def test_softcap_is_a_stage_of_its_own():
    tr = model_traces(model("gemma2"), text("gemma2", "en"), layers=[0])[0]
    info = tr.attention
    assert info.softcap is not None
    hd = tr.heads[0]
    np.testing.assert_allclose(hd.capped, info.softcap * np.tanh(hd.scaled / info.softcap), rtol=1e-6, atol=1e-6)
    assert np.all(np.abs(hd.capped) < info.softcap)
    assert info.scale != pytest.approx(tr.d_k ** -0.5)  # query_pre_attn_scalar, not the head width


def test_a_trace_reads_only_the_layers_it_needs():
    m = load_model(FIXTURES / "tiny-qwen2")
    model_traces(m, text("qwen2", "en"), layers=[0])
    assert m.tensors.reads and not [n for n in m.tensors.reads if ".layers.1." in n]
    assert not [n for n in m.tensors.reads if "mlp" in n]  # layer 0 stops after its attention


def test_sharded_checkpoint_opens_only_the_shards_it_reads():
    m = load_model(FIXTURES / "tiny-mistral")
    assert (FIXTURES / "tiny-mistral" / "model.safetensors.index.json").is_file()
    assert not (FIXTURES / "tiny-mistral" / "model.safetensors").exists()
    assert len(set(m.tensors.weight_map.values())) >= 2


@pytest.mark.parametrize("family", ["gemma", "gemma2"])
def test_a_gemma_config_without_its_activation_uses_transformers_default(tmp_path, family):
    """transformers' Gemma configs default to gelu_pytorch_tanh (not the Llama family's silu) when config.json
    names no activation, as exporters other than transformers may write it."""
    import json
    import shutil

    folder = tmp_path / family
    shutil.copytree(FIXTURES / f"tiny-{family}", folder)
    config = json.loads((folder / "config.json").read_text())
    assert config.pop("hidden_act", None) or config.pop("hidden_activation", None)
    (folder / "config.json").write_text(json.dumps(config))
    got = logits(load_model(folder), text(family, "en"))[-1]
    np.testing.assert_allclose(got, golden()[f"{family}/en/last_logits"], atol=1e-4)
