"""--download (models.fetch, models/hub.py): a repo id missing from the cache is downloaded, only the files its
family reads, only when the user asks.

No network: a stand-in `huggingface_hub` module serves the tiny BERT fixture the way the real one fills
the Hugging Face cache, or fails with errors named as the real library names them.
"""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.errors import ModelError
from attnviz.models import fetch, load_model, model_trace
from attnviz.models.resolve import FILES

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "tiny-bert"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def stand_in_hub(monkeypatch, cache: Path, fail: Exception | None = None, repo: Path = FIXTURE) -> list[tuple]:
    """Install a fake huggingface_hub whose hf_hub_download copies a file of `repo` (a fixture folder) into
    `cache` (as models--org--name/snapshots/COMMIT/file), raises EntryNotFoundError for a file `repo` lacks (as
    the real one does), or raises `fail`; returns the calls it gets."""
    calls: list[tuple] = []

    def hf_hub_download(repo_id, filename, *, revision=None):
        calls.append((repo_id, filename, revision))
        if fail is not None:
            raise fail
        if not (repo / filename).is_file():
            raise type("EntryNotFoundError", (Exception,), {})(f"404 {filename}")
        snapshot = cache / ("models--" + repo_id.replace("/", "--")) / "snapshots" / COMMIT
        snapshot.mkdir(parents=True, exist_ok=True)
        return str(shutil.copy(repo / filename, snapshot / filename))

    module = types.ModuleType("huggingface_hub")
    module.hf_hub_download = hf_hub_download
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return calls


def error(name: str, message: str = "") -> Exception:
    """An exception whose class has the hub's name for it (matched by name, as hub.py does)."""
    return type(name, (Exception,), {})(message)


def test_a_missing_repo_is_downloaded_three_files_and_gives_the_same_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = stand_in_hub(monkeypatch, tmp_path / "cache")
    with pytest.raises(ModelError, match="run again with --download"):
        load_model("someone/tiny-bert")  # never downloads by itself
    assert calls == []
    folder = fetch("someone/tiny-bert@v1")
    assert calls == [("someone/tiny-bert", f, "v1") for f in FILES]  # exactly the three files, that revision
    downloaded = load_model(f"someone/tiny-bert@{COMMIT}")  # now in the cache
    assert downloaded.path == folder
    assert downloaded.name == "someone/tiny-bert"
    assert sorted(p.name for p in downloaded.path.iterdir()) == sorted(FILES)
    local = model_trace(load_model(str(FIXTURE)), "The cat sat", 1)
    fetched = model_trace(downloaded, "The cat sat", 1)
    assert np.array_equal(fetched.heads[0].weights, local.heads[0].weights)


def test_a_cached_repo_a_folder_and_minilm_are_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = stand_in_hub(monkeypatch, tmp_path / "cache")
    first = fetch("someone/tiny-bert")
    (first.parent.parent / "refs").mkdir()
    (first.parent.parent / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    calls.clear()
    assert fetch("someone/tiny-bert") == first
    assert fetch(str(FIXTURE)) == FIXTURE
    with pytest.raises(ModelError, match="no directory ./nowhere"):
        fetch("./nowhere")  # a path, not a repo id: never sent to the Hub
    assert calls == []


def test_offline_is_honoured(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = stand_in_hub(monkeypatch, tmp_path / "cache")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="has no someone/x: .*HF_HUB_OFFLINE is set, so attnviz does not download"):
        fetch("someone/x")
    assert calls == []


@pytest.mark.parametrize(("name", "says"), [
    ("LocalEntryNotFoundError", "the Hub could not be reached: check your network"),
    ("RepositoryNotFoundError", "no such repo .*check the repo id"),
    ("RevisionNotFoundError", "no such revision"),
    ("GatedRepoError", "the repo is gated"),
    ("RemoteEntryNotFoundError", "the repo has no config.json"),
    ("HTTPError", "503 Service Unavailable more lines \\[HTTPError\\]"),
])
def test_a_failed_download_is_one_line_naming_the_file_and_the_fix(tmp_path, monkeypatch, name, says):
    monkeypatch.chdir(tmp_path)
    if name == "RemoteEntryNotFoundError":  # the real class derives from EntryNotFoundError
        fail = type(name, (type("EntryNotFoundError", (Exception,), {}),), {})("404")
    else:
        fail = error(name, "503 Service Unavailable\nmore lines")
    stand_in_hub(monkeypatch, tmp_path / "cache", fail=fail)
    with pytest.raises(ModelError, match=f"could not download config.json of someone/x from the Hugging Face Hub: "
                                         f"{says}") as raised:
        fetch("someone/x")
    assert "\n" not in str(raised.value)


def test_no_safetensors_in_the_repo_says_attnviz_never_loads_pickles(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = stand_in_hub(monkeypatch, tmp_path / "cache")
    real = sys.modules["huggingface_hub"].hf_hub_download

    def no_safetensors(repo_id, filename, *, revision=None):
        if filename == "model.safetensors":
            raise type("EntryNotFoundError", (Exception,), {})("404")
        return real(repo_id, filename, revision=revision)

    sys.modules["huggingface_hub"].hf_hub_download = no_safetensors
    with pytest.raises(ModelError, match="has no model.safetensors .*pytorch_model.bin, a pickle attnviz never loads"):
        fetch("someone/old")
    assert [c[1] for c in calls] == ["config.json", "model.safetensors.index.json"]  # then no shards, nothing else


def test_the_cli_downloads_on_request_and_fails_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stand_in_hub(monkeypatch, tmp_path / "cache")
    offline = CliRunner().invoke(app, ["explain", "The cat sat", "--model", "someone/tiny-bert"])
    assert offline.exit_code == 1 and "run again with --download" in offline.output
    for command in ("explain", "mask", "heads", "block"):
        shown = CliRunner().invoke(app, [command, "The cat sat", "--model", "someone/tiny-bert", "--download",
                                         "--json", "-"])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.output)["model"]["name"] == "someone/tiny-bert"
    stand_in_hub(monkeypatch, tmp_path / "other", fail=error("RepositoryNotFoundError", "404"))
    failed = CliRunner().invoke(app, ["explain", "x", "--model", "someone/nothing", "--download"])
    assert failed.exit_code == 1
    assert failed.output.count("\n") == 1 and failed.output.startswith("Error: could not download config.json")


def test_the_hub_error_names_hub_py_matches_exist_in_huggingface_hub():
    errors = pytest.importorskip("huggingface_hub.errors")  # only where attnviz[hub] is installed
    for name in ("LocalEntryNotFoundError", "RepositoryNotFoundError", "RevisionNotFoundError", "GatedRepoError",
                 "EntryNotFoundError"):
        assert isinstance(getattr(errors, name), type), name
    assert issubclass(errors.LocalEntryNotFoundError, errors.EntryNotFoundError)  # why hub.py checks it first


def test_without_huggingface_hub_download_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ModelError, match="--download needs the package huggingface_hub: "
                                         "`pip install 'attnviz\\[hub\\]'`"):
        fetch("someone/x")


FIXTURES = FIXTURE.parent


@pytest.mark.parametrize("fixture, files", [
    ("tiny-vit", ["config.json", "model.safetensors", "preprocessor_config.json"]),
    ("tiny-vit-gpt2", ["config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json"]),
    ("tiny-marian", ["config.json", "model.safetensors", "source.spm", "target.spm", "vocab.json"]),
    ("tiny-gpt2", ["config.json", "model.safetensors", "tokenizer.json"]),
])
def test_download_fetches_what_the_family_reads(tmp_path, monkeypatch, fixture, files):
    if fixture == "tiny-marian":
        pytest.importorskip("sentencepiece")
    monkeypatch.chdir(tmp_path)
    calls = stand_in_hub(monkeypatch, tmp_path / "cache", repo=FIXTURES / fixture)
    folder = fetch(f"someone/{fixture}")
    assert [c[1] for c in calls] == files  # config.json first, then what its model_type needs, nothing else
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    assert load_model(folder).architecture == json.loads((folder / "config.json").read_text())["model_type"]


def shard(source: Path, target: Path) -> list[str]:
    """A copy of the checkpoint `source` whose model.safetensors is cut into two shards and an index."""
    shutil.copytree(source, target)
    data = (target / "model.safetensors").read_bytes()
    (target / "model.safetensors").unlink()
    n = int.from_bytes(data[:8], "little")
    header = {k: v for k, v in json.loads(data[8:8 + n]).items() if k != "__metadata__"}
    names = sorted(header)
    parts = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
    weight_map = {}
    for file, chosen in parts.items():
        out, blobs, at = {}, [], 0
        for name in chosen:
            begin, end = header[name]["data_offsets"]
            out[name] = {**header[name], "data_offsets": [at, at + end - begin]}
            blobs.append(data[8 + n + begin:8 + n + end])
            at += end - begin
            weight_map[name] = file
        raw = json.dumps(out).encode()
        (target / file).write_bytes(len(raw).to_bytes(8, "little") + raw + b"".join(blobs))
    (target / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}), encoding="utf-8")
    return sorted(parts)


def test_a_sharded_repo_downloads_its_index_then_every_shard(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shards = shard(FIXTURE, tmp_path / "sharded")
    calls = stand_in_hub(monkeypatch, tmp_path / "cache", repo=tmp_path / "sharded")
    folder = fetch("someone/sharded")
    assert [c[1] for c in calls] == ["config.json", "model.safetensors", "model.safetensors.index.json",
                                     *shards, "tokenizer.json"]
    fetched = model_trace(load_model(folder), "The cat sat", 1)
    local = model_trace(load_model(str(FIXTURE)), "The cat sat", 1)
    # the same weights at other byte offsets: float32 sums may round differently (another SIMD alignment)
    np.testing.assert_allclose(fetched.heads[0].weights, local.heads[0].weights, atol=1e-6)


def test_an_index_naming_a_path_outside_the_repo_is_refused_before_downloading_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shard(FIXTURE, tmp_path / "evil")
    (tmp_path / "evil" / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "../../secret"}}), encoding="utf-8")
    calls = stand_in_hub(monkeypatch, tmp_path / "cache", repo=tmp_path / "evil")
    with pytest.raises(ModelError, match="is not a valid safetensors index"):
        fetch("someone/evil")
    assert [c[1] for c in calls] == ["config.json", "model.safetensors", "model.safetensors.index.json"]
