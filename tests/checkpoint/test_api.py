"""save_checkpoint / load_checkpoint / read_meta: round trips, tied weights, paths, sidecar, no pickle."""

import io
import json
import pickle
import tokenize
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

import rnnkit.checkpoint as ckpt
from rnnkit.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    CheckpointError,
    checkpoint_paths,
    load_checkpoint,
    read_meta,
    save_checkpoint,
)

SRC = Path(ckpt.__file__).parent


def raw(t: torch.Tensor) -> torch.Tensor:
    return t.detach().contiguous().reshape(-1).view(torch.uint8)


def test_every_dtype_and_shape_round_trips_bit_exactly(tmp_path):
    g = torch.Generator().manual_seed(0)
    state = {
        "f32": torch.randn(3, 4, generator=g),
        "f64": torch.randn(5, dtype=torch.float64, generator=g),
        "f16": torch.randn(2, 2, generator=g).half(),
        "bf16": torch.randn(7, generator=g).bfloat16(),
        "i64": torch.arange(6).reshape(2, 3),
        "i8": torch.tensor([-3, 4], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "nan": torch.tensor([float("nan"), -0.0]),
        "noncontig": torch.randn(4, 3, generator=g).t(),
        "param": torch.nn.Parameter(torch.ones(2)),
    }
    meta = {
        "config": {"cell": "lstm", "hidden": 8, "dropout": 0.0},
        "vocab": ["<unk>", "a", "é"],
        "step": 12,
        "best_val_loss": float("inf"),
        "pair": (1, "x"),
    }
    path = save_checkpoint(tmp_path / "ck", state, meta)
    assert path == tmp_path / "ck.safetensors" and (tmp_path / "ck.json").is_file()
    ck = load_checkpoint(path)
    assert isinstance(ck, Checkpoint) and ck.path == path and ck.created and ck.rnnkit_version
    assert list(ck.model_state) == list(state)  # order kept
    for key, value in state.items():
        back = ck.model_state[key]
        assert back.dtype == value.dtype and back.shape == value.shape and not back.requires_grad
        assert torch.equal(raw(back), raw(value))  # bytes, so nan and -0.0 count too
    assert ck.meta == meta and isinstance(ck.meta["pair"], tuple)
    assert ck.optimizer_state is None and ck.scheduler_state is None and ck.rng_state is not None
    assert read_meta(path) == meta


def test_loaded_tensors_are_writable_and_independent_of_the_file(tmp_path):
    path = save_checkpoint(tmp_path / "ck", {"w": torch.zeros(4), "v": torch.ones(2)}, {}, rng=False)
    ck = load_checkpoint(path)
    ck.model_state["w"].add_(1)  # in place, as an optimiser does with its state
    assert torch.equal(load_checkpoint(path).model_state["w"], torch.zeros(4))


def test_extra_tensors_round_trip_beside_the_model(tmp_path):
    h, c = torch.randn(1, 2, 3), torch.randn(1, 2, 3)
    extra = {"carry.0": h, "carry.1": c}
    path = save_checkpoint(tmp_path / "ck", {"w": torch.ones(1)}, {}, extra_tensors=extra)
    ck = load_checkpoint(path)
    assert list(ck.extra_tensors) == ["carry.0", "carry.1"]
    assert torch.equal(ck.extra_tensors["carry.0"], h) and torch.equal(ck.extra_tensors["carry.1"], c)
    assert load_checkpoint(save_checkpoint(tmp_path / "plain", {}, {})).extra_tensors == {}


def test_tied_weights_are_stored_once_and_come_back_tied(tmp_path):
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    model = torch.nn.ModuleDict({"emb": emb, "head": head})
    path = save_checkpoint(tmp_path / "ck", model.state_dict(), {}, rng=False)
    with safe_open(path, "pt") as f:
        assert sorted(f.keys()) == ["model.emb.weight"]
    ck = load_checkpoint(path)
    assert ck.model_state["head.weight"] is ck.model_state["emb.weight"]
    assert torch.equal(ck.model_state["head.weight"], emb.weight.detach())
    fresh = torch.nn.ModuleDict({"emb": torch.nn.Embedding(10, 4), "head": torch.nn.Linear(4, 10, bias=False)})
    fresh["head"].weight = fresh["emb"].weight
    fresh.load_state_dict(ck.model_state)
    assert fresh["head"].weight is fresh["emb"].weight and torch.equal(fresh["emb"].weight, emb.weight)


def test_overlapping_views_of_one_buffer_are_saved_as_copies(tmp_path):
    flat = torch.arange(10.0)
    state = {"all": flat, "head": flat[:4], "tail": flat[6:], "strided": flat[::2]}
    ck = load_checkpoint(save_checkpoint(tmp_path / "ck", state, {}, rng=False))
    for key, value in state.items():
        assert torch.equal(ck.model_state[key], value)


@pytest.mark.parametrize("given", ["ck", "ck.safetensors", "ck.json"])
def test_any_of_the_three_spellings_finds_the_checkpoint(tmp_path, given):
    save_checkpoint(tmp_path / given, {"w": torch.ones(1)}, {"step": 1}, rng=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]
    for spelling in ("ck", "ck.safetensors", "ck.json"):
        assert load_checkpoint(tmp_path / spelling).meta == {"step": 1}
        assert read_meta(str(tmp_path / spelling)) == {"step": 1}


def test_paths_keep_other_dots_and_create_parent_directories(tmp_path):
    expected = (Path("runs/step.1000.safetensors"), Path("runs/step.1000.json"))
    assert checkpoint_paths("runs/step.1000") == expected
    path = save_checkpoint(tmp_path / "a" / "b" / "step.7", {"w": torch.ones(1)}, {}, rng=False)
    assert path == tmp_path / "a" / "b" / "step.7.safetensors" and path.is_file()
    renamed = path.rename(tmp_path / "model.ckpt")  # an existing file with another suffix is read as is
    assert torch.equal(load_checkpoint(renamed).model_state["w"], torch.ones(1))


def test_sidecar_is_a_readable_copy_of_the_header(tmp_path):
    save_checkpoint(tmp_path / "ck", {"w": torch.ones(2)}, {"step": 3, "vocab": ["a", "b"]}, rng=False)
    side = json.loads((tmp_path / "ck.json").read_text())
    assert side["format_version"] == FORMAT_VERSION and side["meta"] == {"step": 3, "vocab": ["a", "b"]}
    assert side["model"] == ["w"] and "ck.safetensors" in side["_note"]


def test_a_stale_sidecar_is_ignored(tmp_path):
    """A kill between the two renames leaves new weights with the old sidecar: loading must not care."""
    save_checkpoint(tmp_path / "ck", {"w": torch.zeros(1)}, {"step": 1}, rng=False)
    stale = (tmp_path / "ck.json").read_text()
    save_checkpoint(tmp_path / "ck", {"w": torch.ones(1)}, {"step": 2}, rng=False)
    (tmp_path / "ck.json").write_text(stale)
    ck = load_checkpoint(tmp_path / "ck.json")
    assert ck.meta == {"step": 2} and torch.equal(ck.model_state["w"], torch.ones(1))
    (tmp_path / "ck.json").unlink()
    assert read_meta(tmp_path / "ck") == {"step": 2}


def test_any_safetensors_reader_can_open_it(tmp_path):
    path = save_checkpoint(tmp_path / "ck", {"w": torch.arange(3.0)}, {"step": 5}, rng=False)
    with safe_open(path, "pt") as f:
        assert torch.equal(f.get_tensor("model.w"), torch.arange(3.0))
        assert json.loads(f.metadata()["rnnkit"])["meta"] == {"step": 5}


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"model_state": [torch.ones(1)]}, ValueError, "model_state: expected a dict of str -> Tensor, got list"),
        ({"model_state": {"w": 1.0}}, ValueError, "expected a dict of str -> Tensor, got str 'w' -> float"),
        ({"model_state": {"w": torch.ones(2, dtype=torch.complex128)}}, ValueError, "got torch.complex128"),
        ({"model_state": {"w": torch.ones(2).to_sparse()}}, ValueError, "expected a dense tensor"),
        ({"meta": {"loss": torch.tensor(1.0)}}, TypeError, "meta['loss']: expected a JSON value"),
        ({"meta": "step 3"}, ValueError, "meta: expected a dict, got str"),
        ({"optimizer_state": {"fn": print}}, TypeError, "optimizer_state['fn']: expected"),
        ({"rng": "yes"}, ValueError, "rng: expected True, False or a dict"),
        ({"extra_tensors": [torch.ones(1)]}, ValueError, "extra_tensors: expected a dict of str -> Tensor"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, kwargs, error, message):
    args = {"model_state": {"w": torch.ones(1)}, "meta": {}, **kwargs}
    with pytest.raises(error) as err:
        save_checkpoint(tmp_path / "ck", **args)
    assert message in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_map_location_is_validated():
    with pytest.raises(ValueError, match="map_location: expected a device"):
        load_checkpoint("whatever", map_location="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            load_checkpoint("whatever", map_location="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_checkpoint_saved_from_gpu_loads_on_cpu_and_resumes_on_gpu(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=0.1, capturable=True)  # its 'step' lives on the GPU
    x = torch.randn(4, 3, device="cuda")
    model(x).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "ck", model.state_dict(), {}, opt.state_dict())

    ck = load_checkpoint(path)  # on a CPU-only machine this is all that runs
    assert all(t.device.type == "cpu" for t in ck.model_state.values()) and "cuda" in ck.rng_state
    cpu_model = torch.nn.Linear(3, 2)
    cpu_model.load_state_dict(ck.model_state)
    assert torch.equal(cpu_model.weight, model.weight.detach().cpu())

    on_gpu = load_checkpoint(path, map_location="cuda")
    assert all(t.is_cuda for t in on_gpu.model_state.values())
    assert on_gpu.model_state["weight"].data_ptr() != model.weight.data_ptr()
    resumed = torch.nn.Linear(3, 2).cuda()
    resumed.load_state_dict(on_gpu.model_state)
    resumed_opt = torch.optim.Adam(resumed.parameters(), lr=0.1, capturable=True)
    resumed_opt.load_state_dict(on_gpu.optimizer_state)  # moves the CPU tensors back to the GPU
    for m, o in ((model, opt), (resumed, resumed_opt)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    assert torch.equal(resumed.weight, model.weight) and torch.equal(resumed.bias, model.bias)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "ck", model.state_dict(), {"step": 1}, opt.state_dict())

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling during load")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    ck = load_checkpoint(path)
    read_meta(path)
    opt.load_state_dict(ck.optimizer_state)


def test_source_has_no_pickle_and_no_torch_load():
    """Checked on the code tokens (prose such as 'never unpickles' is allowed in docstrings)."""
    for file in sorted(SRC.glob("*.py")):
        tokens = tokenize.generate_tokens(io.StringIO(file.read_text()).readline)
        code = " ".join(t.string for t in tokens if t.type not in (tokenize.STRING, tokenize.COMMENT))
        code = code.replace(" . ", ".")
        assert "pickle" not in code and "torch.load" not in code, file.name
    assert "torch.load(" not in "".join(f.read_text() for f in SRC.glob("*.py"))


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)
