"""A self-contained Bento: the zerochurn wheel, bentofile.yaml and the champion from the store.

`zerochurn build-bento` (cli/serving.py) imports the champion into the BentoML model
store, then calls build. Everything the build writes stays in the workspace:

    <workspace>/bento-build/wheels/zerochurn-<version>-py3-none-any.whl
    <workspace>/bento-build/bentofile.yaml   the repository's, plus python.wheels
    $BENTOML_HOME/bentos/zerochurn/<version>/ the Bento (BENTOML_HOME set by the caller)

The staging folder is the build context: BentoML only copies wheels named by a relative
path inside the build context and the current directory, so the build runs there. The
repository's bentofile.yaml must therefore not name other files of the checkout.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import bentoml
import yaml
from bentoml.exceptions import BentoMLException

import zerochurn
from zerochurn.configs import Settings
from zerochurn.io import atomic_path
from zerochurn.serving.launch import SETTINGS_ENV

BENTOFILE = "bentofile.yaml"
STAGING_DIR = "bento-build"
"""Build context of build-bento, inside the workspace."""
WHEELS_DIR = "wheels"
DISTRIBUTION = "zerochurn"
GENERATED_HEADER = (
    "# Written by `zerochurn build-bento` from {source}: that file plus the zerochurn wheel\n"
    "# under python.wheels. Edit the original, not this copy.\n"
)


class BentoBuildError(RuntimeError):
    """The wheel or the Bento could not be built; the message says why."""


@dataclass(frozen=True)
class BuiltBento:
    tag: str
    path: Path
    """The Bento's folder in the store."""
    wheel: Path
    bentofile: Path
    models: tuple[str, ...]


def source_tree() -> Path:
    """The checkout zerochurn is installed from (`pip install -e .`): pyproject.toml, bentofile.yaml."""
    root = Path(zerochurn.__file__).resolve().parents[1]
    missing = [name for name in ("pyproject.toml", BENTOFILE) if not (root / name).is_file()]
    if missing:
        raise BentoBuildError(
            f"zerochurn is not installed from a source checkout ({root} has no "
            f"{' or '.join(missing)}); build-bento builds from one (`pip install -e .`)"
        )
    return root


def build_wheel(source: Path, out_dir: Path) -> Path:
    """Build the zerochurn wheel of `source` into `out_dir` (older zerochurn wheels removed).

    Offline: no build isolation and no index, so the venv's setuptools (in the lock file)
    builds it. setuptools' build/ and egg-info go to a scratch folder, not the checkout:
    a stale build/lib there would leak deleted modules into the wheel.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{DISTRIBUTION}-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="wheel-", dir=out_dir.parent) as scratch:
        config = Path(scratch) / "setup.cfg"
        config.write_text(
            f"[build]\nbuild_base = {scratch}/build\n[egg_info]\negg_base = {scratch}\n"
        )
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        argv += ["--no-index", "--disable-pip-version-check", "--quiet"]
        argv += ["--wheel-dir", str(out_dir), str(source)]
        done = subprocess.run(
            argv,
            env={**os.environ, "DIST_EXTRA_CONFIG": str(config)},
            capture_output=True,
            text=True,
            check=False,
        )
    wheels = sorted(out_dir.glob(f"{DISTRIBUTION}-*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise BentoBuildError(
            f"building the zerochurn wheel failed ({' '.join(argv)}):\n"
            f"{done.stdout}{done.stderr}".rstrip()
        )
    return wheels[0]


def write_bentofile(source: Path, staging: Path, wheel: Path) -> Path:
    """`source` (a bentofile.yaml) with `wheel` added under python.wheels, in `staging`."""
    config = yaml.safe_load(source.read_text()) or {}
    python = config["python"] = dict(config.get("python") or {})
    relative = wheel.resolve().relative_to(staging.resolve()).as_posix()
    python["wheels"] = [w for w in python.get("wheels") or [] if w != relative] + [relative]
    target = staging / BENTOFILE
    with atomic_path(target) as tmp:
        tmp.write_text(
            GENERATED_HEADER.format(source=source) + yaml.safe_dump(config, sort_keys=False)
        )
    return target


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `values` set, restored afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def build(settings: Settings, model_tag: str, source: Path | None = None) -> BuiltBento:
    """Build the wheel of `source` (default: the installed checkout) and a Bento with it.

    `model_tag` is the champion in the BentoML model store (zerochurn import-model). The
    service is imported with `settings`, serving.model_source=bentoml and
    serving.bento_model=`model_tag`, so the Bento pins exactly that version, whatever was
    imported after it. BENTOML_HOME must already be set (bentoml reads it once per process).
    """
    source = source or source_tree()
    staging = (settings.workspace / STAGING_DIR).resolve()
    wheel = build_wheel(source, staging / WHEELS_DIR)
    bentofile = write_bentofile(source / BENTOFILE, staging, wheel)
    build_settings = settings.model_copy(
        update={
            "workspace": settings.workspace.resolve(),
            "serving": settings.serving.model_copy(
                update={"model_source": "bentoml", "bento_model": model_tag}
            ),
        }
    )
    try:
        with _environ({SETTINGS_ENV: build_settings.model_dump_json()}), contextlib.chdir(staging):
            # reload: a service module imported earlier in this process read other settings
            bento = bentoml.bentos.build_bentofile(
                str(bentofile), build_ctx=str(staging), reload=True
            )
    except BentoMLException as exc:
        raise BentoBuildError(f"bentoml build failed: {exc}") from exc
    models = tuple(str(model.tag) for model in bento.info.all_models)
    if model_tag not in models:
        raise BentoBuildError(
            f"Bento {bento.tag} pins {list(models)}, not the champion {model_tag}"
        )
    return BuiltBento(
        tag=str(bento.tag), path=Path(bento.path), wheel=wheel, bentofile=bentofile, models=models
    )
