"""The Python client installs on its own: a wheel with the generated and hand-written code."""

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SMOKE = """
import importlib.resources, pathlib, sys
import fapiao.v1.invoice_service_pb2 as generated
import fapiao_client
from fapiao_client import errors
site = pathlib.Path(sys.argv[1])
assert pathlib.Path(generated.__file__).is_relative_to(site), generated.__file__
assert pathlib.Path(fapiao_client.__file__).is_relative_to(site), fapiao_client.__file__
described = importlib.resources.files("fapiao.v1").joinpath("descriptor_set.binpb").read_bytes()
assert described and errors.EXCEPTION_CLASSES
print("ok")
"""


def test_the_wheel_carries_both_packages_and_imports_alone(tmp_path: Path) -> None:
    # Built from a copy, so the working tree gets no build/ directory.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT / "clients" / "python",
        source,
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"),
    )
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, str(source), "-w", str(wheels)], check=True, timeout=120)
    (wheel,) = wheels.glob("fapiao_client-*.whl")
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site)]
    subprocess.run([*install, str(wheel)], check=True, timeout=120)
    # -S: without the virtualenv's .pth files, so the editable install cannot answer; the
    # dependencies (grpcio, protobuf, grpcio-status) still come from its site-packages.
    dependencies = sysconfig.get_paths()["purelib"]
    result = subprocess.run(
        [sys.executable, "-S", "-c", SMOKE, str(site)],
        env={"PYTHONPATH": f"{site}:{dependencies}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
