"""gaedu.checkpoint: atomic saving, safe loading and its refusals; the GAN's and the autoencoder's checkpoints."""

import errno
import os
import stat
import sys
from contextlib import contextmanager

import pytest
import torch
from torch import nn

import gaedu.checkpoint
from gaedu.autoencoder import AEConfig, load_autoencoder, reconstruct, save_autoencoder, train_autoencoder
from gaedu.checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint
from gaedu.data import load_digits
from gaedu.gan import GANConfig, load_generator, sample, save_gan, train_gan


@pytest.fixture(scope="module")
def digits():
    return load_digits("train")[0][:64]


@contextmanager
def _raises_one_line(match):
    """``pytest.raises(CheckpointError, match=...)`` that also checks the message is a single line."""
    with pytest.raises(CheckpointError, match=match) as info:
        yield info
    assert "\n" not in str(info.value), str(info.value)


def _seeded_linear(seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(3, 2)


def _build_linear(payload):
    config = payload["config"]
    return nn.Linear(config["inputs"], config["outputs"]), payload["state"]["model"]


# save_checkpoint and load_checkpoint


def test_round_trip(tmp_path):
    state = {"model": _seeded_linear(0).state_dict(), "extra": {"step": torch.tensor(7)}}
    config = {"inputs": 3, "outputs": 2, "shape": (1, 8, 8), "name": "linear", "rate": 1e-3}
    info = {"note": "test", "curve": [0.5, 0.25], "best": torch.arange(3)}
    path = save_checkpoint(str(tmp_path / "a.pt"), "linear", config, state, info)
    assert path == tmp_path / "a.pt"
    payload = load_checkpoint(path, "linear")
    assert set(payload) == {"format", "version", "kind", "config", "state", "info"}
    assert (payload["format"], payload["version"], payload["kind"]) == ("gaedu", 1, "linear")
    assert payload["config"] == config
    for name, tensor in state["model"].items():
        assert torch.equal(payload["state"]["model"][name], tensor)
    assert torch.equal(payload["state"]["extra"]["step"], torch.tensor(7))
    assert payload["info"]["note"] == "test" and payload["info"]["curve"] == [0.5, 0.25]
    assert torch.equal(payload["info"]["best"], torch.arange(3))
    assert load_checkpoint(save_checkpoint(tmp_path / "b.pt", "linear", {}, {}), "linear")["info"] == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt", "b.pt"]  # no temporary file left behind


def test_a_checkpoint_is_readable_by_plain_torch_load_with_weights_only(tmp_path):
    path = save_checkpoint(tmp_path / "a.pt", "linear", {"inputs": 3}, {"model": _seeded_linear(0).state_dict()})
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert payload["kind"] == "linear" and payload["config"] == {"inputs": 3}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_the_file_has_the_permissions_of_the_umask_not_0600(tmp_path, mask):
    old = os.umask(mask)
    try:
        path = save_checkpoint(tmp_path / "a.pt", "gan", {}, {})
        with open(tmp_path / "plain.pt", "wb"):
            pass
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "plain.pt").st_mode) == 0o666 & ~mask


def test_saving_into_a_missing_folder_is_refused_and_creates_nothing(tmp_path):
    with _raises_one_line(r"^cannot write .*x\.pt: the folder .* does not exist$"):
        save_checkpoint(tmp_path / "no" / "such" / "x.pt", "gan", {}, {})
    assert list(tmp_path.iterdir()) == []


def test_a_failing_save_keeps_the_old_checkpoint_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "gan.pt", "gan", {"old": True}, {})
    before = path.read_bytes()
    real_save = torch.save

    def full_disk(obj, file):
        real_save(obj, file)  # most of the bytes reach the temporary file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gaedu.checkpoint.torch, "save", full_disk)
    with _raises_one_line(r"^cannot write .*gan\.pt: No space left on device$"):
        save_checkpoint(path, "gan", {"new": True}, {})
    assert path.read_bytes() == before
    assert load_checkpoint(path, "gan")["config"] == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["gan.pt"]


def test_missing_files_are_refused(tmp_path):
    with _raises_one_line(r"^no checkpoint at .*missing\.pt$"):
        load_checkpoint(tmp_path / "missing.pt", "gan")
    with _raises_one_line("^no checkpoint at "):
        load_checkpoint(tmp_path, "gan")  # a folder is not a checkpoint


def test_unreadable_files_are_refused(tmp_path):
    good = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {}, {"model": _seeded_linear(0).state_dict()})
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    text = tmp_path / "notes.pt"
    text.write_text("hello\nworld\n")
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    for path in (truncated, text, empty):
        with _raises_one_line(r"is not a readable checkpoint \(corrupt or not made by gaedu\): "):
            load_checkpoint(path, "autoencoder")


def test_unsafe_pickles_are_refused_without_running(tmp_path, capsys):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    evil = tmp_path / "evil.pt"
    torch.save({"format": "gaedu", "version": 1, "kind": "gan", "config": {}, "state": {}, "x": Payload()}, evil)
    with _raises_one_line(r"not a readable checkpoint .*Unsupported global"):
        load_checkpoint(evil, "gan")
    assert "this must never run" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "payload", [{"weights": torch.zeros(2)}, [torch.zeros(2)], torch.zeros(2), {"format": "other"}]
)
def test_torch_files_not_made_by_gaedu_are_refused(tmp_path, payload):
    foreign = tmp_path / "foreign.pt"
    torch.save(payload, foreign)
    with _raises_one_line(r"foreign\.pt is not a gaedu checkpoint$"):
        load_checkpoint(foreign, "gan")


def test_another_kind_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {}, {})
    with _raises_one_line(r"ae\.pt holds a checkpoint of kind 'autoencoder', not of kind 'gan'$"):
        load_checkpoint(path, "gan")


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_another_format_version_is_refused(tmp_path, version):
    path = tmp_path / "future.pt"
    torch.save({"format": "gaedu", "version": version, "kind": "gan", "config": {}, "state": {}}, path)
    with _raises_one_line(rf"has checkpoint format version {version!r}; this gaedu reads 1$"):
        load_checkpoint(path, "gan")


@pytest.mark.parametrize("key", ["config", "state"])
@pytest.mark.parametrize("damage", ["missing", "not a dict"])
def test_a_missing_config_or_state_is_refused(tmp_path, key, damage):
    payload = {"format": "gaedu", "version": 1, "kind": "gan", "config": {}, "state": {}, "info": {}}
    if damage == "missing":
        del payload[key]
    else:
        payload[key] = [1, 2]
    path = tmp_path / "damaged.pt"
    torch.save(payload, path)
    with _raises_one_line(rf"damaged\.pt is damaged: its '{key}' entry is missing$"):
        load_checkpoint(path, "gan")


# load_model


@pytest.mark.parametrize("device", [None, "cpu", torch.device("cpu")])
def test_load_model_rebuilds_the_model_with_its_weights_in_eval_mode(tmp_path, device):
    original = _seeded_linear(3)
    path = save_checkpoint(tmp_path / "m.pt", "linear", {"inputs": 3, "outputs": 2}, {"model": original.state_dict()})
    model = load_model(path, "linear", _build_linear, device=device)
    assert isinstance(model, nn.Linear) and not model.training
    assert all(p.device == torch.device("cpu") for p in model.parameters())
    for p, q in zip(model.parameters(), original.parameters(), strict=True):
        assert torch.equal(p, q)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model(x), original(x))


def test_load_model_refuses_another_kind(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", "linear", {"inputs": 3, "outputs": 2}, {"model": {}})
    with _raises_one_line("not of kind 'gan'"):
        load_model(path, "gan", _build_linear)


def _raise(error):
    def build(payload):
        raise error

    return build


@pytest.mark.parametrize(
    "build, reason",
    [
        (_raise(KeyError("generator")), "'generator'"),
        (_raise(TypeError("__init__() got an unexpected keyword argument 'width'")), "__init__.. got an unexpected"),
        (
            _raise(ValueError("latent_dim must be an integer >= 1, got -3")),
            "latent_dim must be an integer >= 1, got -3",
        ),
        (_raise(ValueError("first line\nsecond line\nthird line")), "first line second line$"),
        (_raise(KeyError()), "KeyError$"),
        (lambda payload: (nn.Linear(3, 5), payload["state"]["model"]), "Error.* in loading state_dict"),
        (lambda payload: (nn.Linear(3, 2), {"weight": torch.zeros(2, 3)}), "Error.* in loading state_dict"),
        (lambda payload: (nn.Linear(3, 2), [1, 2]), "Expected state_dict to be dict-like"),
    ],
)
def test_a_build_that_fails_gives_a_one_line_error_naming_the_kind(tmp_path, build, reason):
    path = save_checkpoint(
        tmp_path / "m.pt", "gan", {"inputs": 3, "outputs": 2}, {"model": _seeded_linear(0).state_dict()}
    )
    with _raises_one_line(rf"m\.pt does not describe a gaedu gan: {reason}"):
        load_model(path, "gan", build)


# the GAN's and the autoencoder's checkpoints


@pytest.mark.parametrize("ema", [0.999, 0.0])
def test_gan_round_trip_samples_like_the_saved_sampler(tmp_path, digits, ema):
    config = GANConfig(num_steps=3, hidden=8, latent_dim=4, batch_size=16, ema=ema)
    result = train_gan(digits, config, device="cpu", progress=False)
    assert (result.ema_generator is not None) == (ema > 0)
    path = save_gan(tmp_path / "gan.pt", result, info={"note": "test"})
    generator = load_generator(path, device="cpu")
    assert not generator.training
    assert torch.equal(sample(generator, 8, seed=1), sample(result.sampler, 8, seed=1))
    if ema > 0:  # the weight average is what is loaded, not the last iterate
        assert not torch.equal(sample(generator, 8, seed=1), sample(result.generator, 8, seed=1))
    payload = load_checkpoint(path, "gan")
    assert GANConfig(**payload["config"]) == config
    assert payload["info"] == {"note": "test"}
    assert set(payload["state"]) == (
        {"generator", "discriminator", "ema_generator"} if ema else {"generator", "discriminator"}
    )
    assert [p.name for p in tmp_path.iterdir()] == ["gan.pt"]


def test_gan_checkpoint_with_a_bad_config_or_state_is_refused(tmp_path, digits):
    bad_config = save_checkpoint(tmp_path / "bad.pt", "gan", {"latent_dim": -3}, {"generator": {}})
    with _raises_one_line(r"does not describe a gaedu gan: latent_dim must be an integer >= 1, got -3$"):
        load_generator(bad_config)
    unknown = save_checkpoint(tmp_path / "unknown.pt", "gan", {"width": 3}, {"generator": {}})
    with _raises_one_line("does not describe a gaedu gan: .*width"):
        load_generator(unknown)
    result = train_gan(digits, GANConfig(num_steps=0, hidden=8, latent_dim=4), device="cpu", progress=False)
    no_generator = save_checkpoint(tmp_path / "none.pt", "gan", result.config.to_dict(), {})
    with _raises_one_line("does not describe a gaedu gan: 'generator'$"):
        load_generator(no_generator)
    wider = GANConfig(num_steps=0, hidden=16, latent_dim=4).to_dict()
    mismatch = save_checkpoint(tmp_path / "mismatch.pt", "gan", wider, {"generator": result.generator.state_dict()})
    with _raises_one_line("does not describe a gaedu gan: "):
        load_generator(mismatch)
    with _raises_one_line("not of kind 'gan'"):
        load_generator(save_checkpoint(tmp_path / "ae.pt", "autoencoder", {}, {}))


def test_autoencoder_round_trip_reconstructs_like_the_saved_model(tmp_path, digits):
    config = AEConfig(latent_dim=2, hidden=8, depth=1, num_steps=4, batch_size=16, eval_every=2)
    result = train_autoencoder(digits, config, device="cpu", progress=False)
    path = save_autoencoder(tmp_path / "ae.pt", result, info={"note": "test"})
    model = load_autoencoder(path, device="cpu")
    assert not model.training and model.latent_dim == 2
    assert torch.equal(reconstruct(model, digits), reconstruct(result.model, digits))
    payload = load_checkpoint(path, "autoencoder")
    assert AEConfig(**payload["config"]) == config
    assert payload["info"] == {"best_step": result.best_step, "note": "test"}
    with _raises_one_line("not of kind 'autoencoder'"):
        load_autoencoder(save_checkpoint(tmp_path / "gan.pt", "gan", {}, {}))
    damaged = save_checkpoint(tmp_path / "damaged.pt", "autoencoder", config.to_dict(), {"model": {}})
    with _raises_one_line("does not describe a gaedu autoencoder: "):
        load_autoencoder(damaged)


def test_an_unsafe_pickle_that_calls_the_system_is_named_in_the_refusal(tmp_path):
    import pickle

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    torch.save({"format": "gaedu", "version": 1, "kind": "gan", "config": {}, "state": {}, "x": Payload()}, evil)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(Payload()))
    for path, refused in ((evil, r"(?i:unsupported global).*system"), (raw, r"Unsupported operand")):
        with _raises_one_line(rf"not a readable checkpoint .*{refused}"):
            load_checkpoint(path, "gan")
    assert not marker.exists()
