"""The built wheel carries templates, letter templates, migrations and static files, and runs from them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(
    ".git",
    "instance",
    "build",
    "dist",
    "*.egg-info",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "out",
    "screenshots",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build from a copy of the checkout, so the build leaves nothing behind in the working tree."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=IGNORE)
    out = work / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = list(out.glob("consult-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contains_templates_migrations_and_static_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "consult/__init__.py",
        "consult/cli.py",
        "consult/demo/__init__.py",
        "consult/templates/base.html",
        "consult/templates/_form.html",
        "consult/templates/auth/login.html",
        "consult/migrations/env.py",
        "consult/migrations/alembic.ini",
        "consult/migrations/script.py.mako",
        "consult/static/style.css",
    ):
        assert required in names, required
    assert any(n.startswith("consult/templates/rounds/") and n.endswith(".html") for n in names)
    assert any(n.startswith("consult/letter_templates/") for n in names)
    versions = {n for n in names if n.startswith("consult/migrations/versions/") and n.endswith(".py")}
    expected = {f"consult/migrations/versions/{p.name}" for p in (ROOT / "consult/migrations/versions").glob("*.py")}
    assert expected and versions == expected
    for template in (ROOT / "templates").rglob("*.html"):
        assert f"consult/templates/{template.relative_to(ROOT / 'templates').as_posix()}" in names, template
    for module in (ROOT / "consult").rglob("*.py"):  # a subpackage missing from pyproject's list would be lost
        if "__pycache__" not in module.parts:
            assert module.relative_to(ROOT).as_posix() in names, module
    assert not any(n.startswith("tests/") or "/tests/" in n for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "consult = consult.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_unpacked_wheel_finds_its_resources_and_serves_the_login_page(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        from pathlib import Path
        import consult
        site = Path({str(site)!r}).resolve()
        assert Path(consult.__file__).resolve().is_relative_to(site), consult.__file__
        for name in ("templates", "letter_templates"):
            assert consult.resource_dir(name).resolve().is_relative_to(site), consult.resource_dir(name)
        app = consult.create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///" + {str(tmp_path / "w.sqlite")!r},
                                   "SECRET_KEY": "x"}})
        assert Path(app.template_folder).resolve().is_relative_to(site)
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
        response = app.test_client().get("/login")
        assert response.status_code == 200, response.status_code
        assert "ログイン" in response.get_data(as_text=True)
        assert app.test_client().get("/static/style.css").status_code == 200
        print("wheel ok")
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env["CONSULT_INSTANCE_PATH"] = str(tmp_path / "instance")
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "wheel ok" in run.stdout
