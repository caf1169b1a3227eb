"""Damaged, foreign and other-version files: each gives one CheckpointError line that names the file."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import rnnkit.checkpoint.container as container
from rnnkit.checkpoint import CheckpointError, checkpoint_paths, load_checkpoint, read_meta, save_checkpoint


@pytest.fixture
def ckpt(tmp_path):
    model = torch.nn.Linear(16, 8)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 16)).sum().backward()
    opt.step()
    return save_checkpoint(
        tmp_path / "ck", model.state_dict(), {"step": 1234, "vocab": ["zebra", "yak"]}, opt.state_dict()
    )


def header_length(path) -> int:
    return 8 + int.from_bytes(path.read_bytes()[:8], "little")


def error_of(fn, path) -> str:
    with pytest.raises(CheckpointError) as err:
        fn(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith("checkpoint: ")
    assert str(path) in message or str(checkpoint_paths(path)[0]) in message
    return message


def damage(path, offset, xor=0xFF):
    data = bytearray(path.read_bytes())
    data[offset] ^= xor
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["empty", "4", "8", "mid-header", "header-1", "header", "mid-data", "last"])
def test_truncation_at_any_point_is_reported(ckpt, where):
    size, n = ckpt.stat().st_size, header_length(ckpt)
    cut = {
        "empty": 0,
        "4": 4,
        "8": 8,
        "mid-header": n // 2,
        "header-1": n - 1,
        "header": n,
        "mid-data": (n + size) // 2,
        "last": size - 1,
    }[where]
    ckpt.write_bytes(ckpt.read_bytes()[:cut])
    for fn in (load_checkpoint, read_meta):
        message = error_of(fn, ckpt)
        assert message.startswith(f"checkpoint: {ckpt} is truncated or corrupted (")
        assert message.endswith("); expected a complete rnnkit checkpoint")


def test_a_flipped_byte_in_the_tensor_data_fails_the_checksum(ckpt):
    damage(ckpt, ckpt.stat().st_size - 3)
    assert error_of(load_checkpoint, ckpt) == (
        f"checkpoint: {ckpt}: tensor data does not match its checksum; the file is corrupted"
    )
    assert read_meta(ckpt)["step"] == 1234  # the header alone is intact, and read_meta reads only that


def test_a_changed_value_in_the_header_fails_the_header_checksum(ckpt):
    data = ckpt.read_bytes()
    at = data.index(b"zebra")
    assert at < header_length(ckpt)
    ckpt.write_bytes(data[:at] + b"zebrb" + data[at + 5 :])  # still valid JSON, different meaning
    expected = f"checkpoint: {ckpt}: header does not match its checksum; the file is corrupted"
    assert error_of(load_checkpoint, ckpt) == expected
    assert error_of(read_meta, ckpt) == expected


@pytest.mark.parametrize("offset, xor", [(0, 0x01), (7, 0x80), (8, 0xFF), ("mid-header", 0x7F)])
def test_a_flipped_byte_in_the_header_structure_is_reported(ckpt, offset, xor):
    damage(ckpt, header_length(ckpt) // 2 if offset == "mid-header" else offset, xor)
    message = error_of(load_checkpoint, ckpt)
    assert "truncated or corrupted" in message or "does not match its checksum" in message


def test_another_format_version_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(container, "FORMAT_VERSION", 7)
    path = save_checkpoint(tmp_path / "future", {"w": torch.ones(1)}, {}, rng=False)
    monkeypatch.undo()
    expected = f"checkpoint: {path} has format version 7; expected 1 (this rnnkit reads version 1)"
    assert error_of(load_checkpoint, path) == expected
    assert error_of(read_meta, path) == expected


def test_a_document_without_a_version_is_named(tmp_path):
    path = tmp_path / "odd.safetensors"
    save_file({"w": torch.ones(1)}, path, metadata={"rnnkit": json.dumps({"kind": "rnnkit-checkpoint"})})
    assert "has format version None; expected 1" in error_of(load_checkpoint, path)


def test_a_plain_safetensors_file_is_not_an_rnnkit_checkpoint(tmp_path):
    path = tmp_path / "hf.safetensors"
    save_file({"w": torch.ones(2)}, path)
    assert error_of(load_checkpoint, path) == (
        f"checkpoint: {path}: not an rnnkit checkpoint (its safetensors header has no 'rnnkit' metadata)"
    )


def test_a_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)  # what a torch.save zip starts like
    assert "is truncated or corrupted (header length" in error_of(load_checkpoint, path)


def test_a_missing_file_or_a_directory_is_named(tmp_path):
    assert error_of(load_checkpoint, tmp_path / "nope") == (
        f"checkpoint: no such file: {tmp_path / 'nope.safetensors'}"
    )
    assert error_of(read_meta, tmp_path / "nope.json") == (f"checkpoint: no such file: {tmp_path / 'nope.safetensors'}")
    (tmp_path / "dir.safetensors").mkdir()
    assert "is a directory" in error_of(load_checkpoint, tmp_path / "dir")


def test_overlapping_tensor_offsets_are_refused(tmp_path):
    """Hand-made header whose tensors overlap: refused before safetensors sees it, the byte named."""
    header = json.dumps(
        {
            "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
        }
    ).encode()
    path = tmp_path / "x.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(8))
    assert "offsets leave a gap or overlap at byte 4" in error_of(load_checkpoint, path)


FIXTURES = Path(__file__).parents[1] / "fixtures" / "v0"
STAMPED = ("format_version", "kind", "aliases", "tensors_sha256", "sha256")  # what write_container adds


@pytest.mark.parametrize("name", ["char_lm/latest", "word_lm/best", "classify/latest", "tag/best"])
def test_files_of_the_previous_release_read_back_and_are_rewritten_byte_for_byte(tmp_path, name):
    old = FIXTURES / f"{name}.safetensors"
    doc, tensors = container.read_container(old)
    assert container.read_document(old) == doc
    body = {k: v for k, v in doc.items() if k not in STAMPED}
    assert container.write_container(tmp_path / "again.safetensors", tensors, body) == doc
    assert (tmp_path / "again.safetensors").read_bytes() == old.read_bytes()


def test_a_header_without_safetensors_padding_reads_back(tmp_path):
    """Hand-written files (tests/cli rewrite headers this way) need not pad the header to 8 bytes."""
    path = save_checkpoint(tmp_path / "ck", {"w": torch.arange(5.0), "n": torch.arange(3)}, {"step": 2}, rng=False)
    data = path.read_bytes()
    n = header_length(path)
    header = json.dumps(json.loads(data[8:n]), separators=(",", ":")).encode()
    assert len(header) % 8  # so the tensor data after it is misaligned in the file
    path.write_bytes(len(header).to_bytes(8, "little") + header + data[n:])
    ck = load_checkpoint(path)
    assert ck.meta == {"step": 2} and torch.equal(ck.model_state["w"], torch.arange(5.0))
    assert all(t.data_ptr() % t.element_size() == 0 for t in ck.model_state.values())


def test_a_header_claiming_huge_tensors_fails_in_one_line_before_allocating(tmp_path):
    header = json.dumps({"w": {"dtype": "F64", "shape": [1 << 40], "data_offsets": [0, 8 << 40]}}).encode()
    path = tmp_path / "huge.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(16))
    for fn in (load_checkpoint, read_meta):
        assert f"its header describes {8 + len(header) + (8 << 40)}" in error_of(fn, path)


def test_an_entry_whose_shape_and_span_disagree_is_reported(ckpt):
    data = ckpt.read_bytes()
    n = header_length(ckpt)
    header = json.loads(data[8:n])
    header["model.bias"]["shape"] = [9]  # 8 floats in the file
    raw = json.dumps(header).encode()
    ckpt.write_bytes(len(raw).to_bytes(8, "little") + raw + data[n:])
    assert "is truncated or corrupted (" in error_of(load_checkpoint, ckpt)
